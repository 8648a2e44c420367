// Package chat holds the gateway's canonical request and response types.
// They are OpenAI's Chat Completions shapes, because that is the API the
// gateway exposes: providers translate to and from these types, and the
// handler never needs to know a provider's own wire format.
package chat
