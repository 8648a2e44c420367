// Package gemini is the adapter for Google's Gemini API (generateContent
// and streamGenerateContent with alt=sse). System messages become
// systemInstruction, assistant turns the "model" role, tool calls
// functionCall parts and tool results functionResponse parts; usageMetadata
// (cumulative in streams) becomes OpenAI usage.
package gemini
