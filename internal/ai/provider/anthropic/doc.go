// Package anthropic is the adapter for Anthropic's Messages API. It
// translates OpenAI-shaped chat requests into Messages requests (system
// prompt, alternating turns, tool_use and tool_result blocks, stop
// sequences) and Messages answers back, and translates streams event by
// event: message_start → the role chunk, content_block_start/delta → text
// and tool-call chunks, message_delta → the finish reason (its usage is
// cumulative, so the last one is the total), message_stop → the end.
//
// It also serves the gateway's native POST /v1/messages: Anthropic bodies
// forwarded unchanged, with usage read from the answer or the stream.
package anthropic
