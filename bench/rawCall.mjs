// The baseline of bench/llm.bench.mjs: a fresh Node process making the same streamed request to
// the loopback server by hand (fetch, body read to the end), with no agence in between.
const [url, key] = process.argv.slice(2);
const response = await fetch(`${url}/v1/messages`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
  body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'How do I configure TLS?' }] }),
});
const text = await response.text();
if (!response.ok || !text.includes('message_stop')) process.exit(1);
