// The official OpenAI Node SDK against a running `promptpack gateway` whose endpoint echoes its
// prompts (`serve --generator echo`): chat, text, n > 1, streaming, models, errors, auth, and
// hundreds of concurrent callers. Exits 0 when every answer is right, 1 on the first mismatch.
//
//   node gateway_test.mjs URL KEY [MODEL]      (or GATEWAY_URL, GATEWAY_API_KEY, GATEWAY_MODEL)
import OpenAI from 'openai';

const baseURL = (process.argv[2] ?? process.env.GATEWAY_URL ?? '').replace(/\/$/, '') + '/v1';
const apiKey = process.argv[3] ?? process.env.GATEWAY_API_KEY;
const model = process.argv[4] ?? process.env.GATEWAY_MODEL ?? 'promptpack-reference';
if (baseURL === '/v1' || !apiKey) {
  console.error('usage: node gateway_test.mjs URL KEY [MODEL]  (e.g. http://127.0.0.1:8080 secret m)');
  process.exit(2);
}

// No retries: a gateway error must show as such, not be hidden by the SDK trying again.
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

function expect(condition, what, got) {
  if (!condition) throw new Error(`${what}; got ${JSON.stringify(got)}`);
}

async function expectError(promise, errorClass, status, code) {
  try {
    await promise;
  } catch (error) {
    expect(error instanceof errorClass, `a ${errorClass.name}`, `${error.constructor.name}: ${error.message}`);
    expect(error.status === status, `status ${status}`, error.status);
    if (code) expect(error.code === code, `code ${code}`, error.code);
    return;
  }
  throw new Error(`expected a ${errorClass.name}, but the call succeeded`);
}

const checks = {
  async chat() {
    const r = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'what is custom llama?' },
      ],
      max_tokens: 50,
    });
    expect(r.object === 'chat.completion', 'object chat.completion', r.object);
    expect(r.id.startsWith('chatcmpl-'), 'a chatcmpl- id', r.id);
    expect(r.choices.length === 1, 'one choice', r.choices);
    expect(r.choices[0].message.role === 'assistant', 'role assistant', r.choices[0].message);
    expect(r.choices[0].message.content === 'be brief what is custom llama?',
           'the messages joined with one space, echoed', r.choices[0].message.content);
    expect(r.choices[0].finish_reason === 'stop', 'finish_reason stop', r.choices[0].finish_reason);
    expect(r.usage.prompt_tokens === 6 && r.usage.total_tokens === 12, 'usage 6 + 6', r.usage);
  },

  async text() {
    const r = await client.completions.create({ model, prompt: ['one two', 'three'], max_tokens: 10 });
    expect(r.object === 'text_completion', 'object text_completion', r.object);
    expect(r.choices.map((c) => c.text).join('|') === 'one two|three', 'one choice per prompt', r.choices);
    expect(r.choices.map((c) => c.index).join() === '0,1', 'indexes 0,1', r.choices);
  },

  async n_above_one() {
    const r = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: 'three times' }], n: 3, max_tokens: 10,
    });
    expect(r.choices.length === 3, 'three choices', r.choices);
    expect(r.choices.every((c, i) => c.index === i && c.message.content === 'three times'),
           'every output, numbered', r.choices);
  },

  async streaming() {
    const stream = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: 'stream me' }], stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      expect(chunk.object === 'chat.completion.chunk', 'chat.completion.chunk', chunk.object);
      for (const choice of chunk.choices) {
        content += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      usage = chunk.usage ?? usage;
    }
    expect(content === 'stream me', 'the whole text streamed', content);
    expect(finish === 'stop', 'a finish_reason', finish);
    expect(usage?.total_tokens === 4, 'usage in the last chunk', usage);

    const text = await client.completions.create({ model, prompt: 'stream text', stream: true });
    let streamed = '';
    for await (const chunk of text) streamed += chunk.choices.map((c) => c.text).join('');
    expect(streamed === 'stream text', 'the text streamed', streamed);
  },

  async models() {
    const list = await client.models.list();
    expect(list.data.some((m) => m.id === model && m.object === 'model'), `model ${model} listed`, list.data);
  },

  async errors() {
    await expectError(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.NotFoundError, 404, 'model_not_found');
    await expectError(
      client.chat.completions.create({ model, messages: [] }), OpenAI.BadRequestError, 400);
  },

  async auth() {
    const stranger = new OpenAI({ baseURL, apiKey: 'not-the-key', maxRetries: 0 });
    await expectError(
      stranger.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.AuthenticationError, 401, 'invalid_api_key');
  },

  async concurrent_callers() {
    const chats = Array.from({ length: 200 }, (_, i) =>
      client.chat.completions
        .create({ model, messages: [{ role: 'user', content: `caller ${i} asks` }], max_tokens: 8 })
        .then((r) => expect(r.choices[0].message.content === `caller ${i} asks`, `chat ${i}'s own answer`,
                            r.choices[0].message.content)));
    const texts = Array.from({ length: 100 }, (_, i) =>
      client.completions
        .create({ model, prompt: `text caller ${i}`, max_tokens: 8 })
        .then((r) => expect(r.choices[0].text === `text caller ${i}`, `text ${i}'s own answer`,
                            r.choices[0].text)));
    await Promise.all([...chats, ...texts]);
  },
};

let failed = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    await check();
    console.log(`ok ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAILED ${name}: ${error.message}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
