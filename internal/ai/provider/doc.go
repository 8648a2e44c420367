// Package provider defines what a model provider adapter is: it turns the
// gateway's canonical chat request (OpenAI's shape, package chat) into one
// provider's wire format and the answer back, streamed or not, with exact
// usage. Adapters live in sub-packages (openai, anthropic, gemini) and
// register themselves by kind; the handler in package ai picks them from
// config and never sees a provider's own format.
//
// Errors from an adapter are *Error: the provider's HTTP status and
// message, or a transport failure (Status 0). The handler uses them to
// decide on fallback (429, 5xx, timeouts, connection errors), on taking a
// key out of rotation (401, 403) and on passing the provider's own refusal
// through to the caller (other 4xx).
package provider
