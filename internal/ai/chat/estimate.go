package chat

// EstimatePromptTokens guesses the prompt's token count before the call,
// for reservations against token limits and budgets. Real usage replaces
// the guess afterwards; about four bytes per token is the usual rule of
// thumb for English text and JSON, and each message costs a few tokens of
// framing.
func EstimatePromptTokens(msgs []Message, tools []Tool) int {
	n := 3
	for i := range msgs {
		m := &msgs[i]
		n += 4 + len(m.Content.String())/4
		for _, p := range m.Content.Parts {
			if p.Type == "image_url" {
				n += 85 // a low-detail image tile
			}
		}
		for _, tc := range m.ToolCalls {
			n += 3 + (len(tc.Function.Name)+len(tc.Function.Arguments))/4
		}
	}
	for _, t := range tools {
		n += 8 + (len(t.Function.Name)+len(t.Function.Description)+len(t.Function.Parameters))/4
	}
	return n
}

// EstimateTextTokens guesses the tokens of generated text, for streams
// whose provider never reported usage.
func EstimateTextTokens(s string) int { return EstimateBytes(len(s)) }

// EstimateBytes guesses the tokens of n bytes of generated text.
func EstimateBytes(n int) int {
	if n <= 0 {
		return 0
	}
	return n/4 + 1
}
