// Package mock is an in-repo model provider that speaks the real wire
// formats of OpenAI (also Azure, Mistral and compatible servers), Anthropic
// and Gemini, streams included. It answers deterministically, so tests and
// `pinpoint demo` need no real provider key.
//
// Answers: the reply is "Hello! You said: <last user text>". Usage counts
// words (prompt: words of every message plus 3 per message; completion:
// words of the reply). When tools are offered and the last turn is not a
// tool result, the model calls the first tool with {"query": <last user
// text>}; after a tool result it replies "Tool result: <result>".
//
// Behaviour on demand, chosen by the model name so it can be driven from
// config: a model containing "error-429" answers 429 with Retry-After,
// "error-500"/"error-503"/"error-400" answer those statuses, "slow" waits
// 300ms before answering, "cut" breaks a stream after two text events,
// "nousage" streams without a usage report. A key starting with "sk-bad"
// is refused with 401. Requests are validated as strictly as the real API
// does (alternating Anthropic turns, max_tokens, roles), so translation
// mistakes fail tests.
package mock
