// Package openai is the adapter for providers that speak OpenAI's Chat
// Completions API: OpenAI itself, Azure OpenAI, Mistral, Ollama's
// OpenAI-compatible endpoint and any compatible base URL. The caller's body
// is forwarded with only the model replaced (and stream_options added so
// streamed usage is exact); answers pass through unchanged.
package openai
