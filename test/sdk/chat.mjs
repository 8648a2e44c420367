// Drives pinpoint's AI gateway with the official openai client and prints
// what the SDK surfaced as JSON, for internal/ai/sdk_test.go to check.
// Usage: node chat.mjs <baseURL>
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "pp_test_key", maxRetries: 0 });
const out = {};

const completion = await client.chat.completions.create({
  model: "openai/gpt-4o-mini",
  messages: [{ role: "user", content: "hello sdk" }],
});
out.completion = { content: completion.choices[0].message.content, usage: completion.usage };

const stream = await client.chat.completions.create({
  model: "claude/claude-3-5-haiku-latest",
  messages: [{ role: "user", content: "stream sdk" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let usage = null;
let finish = null;
for await (const chunk of stream) {
  if (chunk.choices.length > 0) {
    text += chunk.choices[0].delta?.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}
out.stream = { content: text, usage, finish };

try {
  await client.chat.completions.create({ model: "openai/gpt-4o", messages: [{ role: "user", content: "x" }] });
  out.denied = { error: "no error thrown" };
} catch (e) {
  out.denied = { status: e.status, message: e.message, code: e.code, type: e.type, isPermission: e instanceof OpenAI.PermissionDeniedError };
}

console.log(JSON.stringify(out));
