// The OpenAI responder with the real `openai` SDK against a local streaming peer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createOpenAIClient } from '../../src/wiring/clients.js';
import { OpenAIResponder, trimHistory } from '../../src/adapters/responder/openai-responder.js';
import { emptyConversation, type Turn } from '../../src/domain/conversation.js';
import type { ResponderChunk, ResponderInput } from '../../src/domain/ports.js';
import { harness, say } from '../support/convo-harness.js';
import { startOpenAIStub, type OpenAIStub } from '../support/openai-stub-server.js';
import { PendingToolActions } from '../../src/adapters/responder/openai-tools.js';
import { ToolRegistry } from '../../src/domain/tools/tool-registry.js';
import { builtinTools } from '../../src/domain/tools/builtin-tools.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { systemClock } from '../../src/adapters/system-clock.js';

let stub: OpenAIStub;
beforeEach(async () => {
  stub = await startOpenAIStub();
});
afterEach(async () => {
  await stub.close();
});

function responderFor(env: Record<string, string>): OpenAIResponder {
  const config = loadConfig({ RESPONDER: 'openai', SYSTEM_PROMPT: 'You are the test agent.', ...env });
  const handle = createOpenAIClient(config.responder);
  return new OpenAIResponder({ client: handle.client }, { model: handle.model, systemPrompt: config.responder.systemPrompt, timeoutMs: 5000, historyTokenBudget: 1000 });
}

function input(history: Turn[], text: string): ResponderInput {
  return { callId: 'c1', state: { ...emptyConversation('c1'), context: { profile: { name: 'Alice', pin: '9999' } }, history }, input: { kind: 'speech', text, confidence: 0.9 } };
}

async function collect(it: AsyncIterable<ResponderChunk>): Promise<string> {
  let s = '';
  for await (const c of it) if (c.type === 'text') s += c.text;
  return s;
}

describe('openai responder', () => {
  it('streams the reply and sends model, stream:true and the conversation as messages', async () => {
    stub.behaviour.pieces = ['We are ', 'open ', 'from nine.'];
    const r = responderFor({ OPENAI_API_KEY: 'sk-test-key', OPENAI_BASE_URL: `${stub.url}/v1`, OPENAI_MODEL: 'gpt-test' });
    const history: Turn[] = [
      { seq: 1, speaker: 'assistant', text: 'Hello Alice, how can I help?', at: 1 },
      { seq: 2, speaker: 'user', text: 'When are you open?', at: 2 },
    ];
    expect(await collect(r.respond(input(history, 'When are you open?'), new AbortController().signal))).toBe('We are open from nine.');
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(new URL(req.url, 'http://x').pathname).toBe('/v1/chat/completions');
    expect(req.headers['authorization']).toBe('Bearer sk-test-key');
    expect(req.body['model']).toBe('gpt-test');
    expect(req.body['stream']).toBe(true);
    expect(req.body['messages']).toEqual([
      { role: 'system', content: 'You are the test agent.' },
      { role: 'system', content: 'Caller name: Alice.' },
      { role: 'assistant', content: 'Hello Alice, how can I help?' },
      { role: 'user', content: 'When are you open?' },
    ]);
    expect(JSON.stringify(req.body)).not.toContain('9999');
  });

  it('closes the HTTP request when the turn is aborted mid-stream (barge-in)', async () => {
    stub.behaviour.pieces = ['First part. ', 'second part ', 'never sent'];
    stub.behaviour.hangAfter = 1;
    const r = responderFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${stub.url}/v1` });
    const ac = new AbortController();
    const got: string[] = [];
    const consume = (async () => {
      for await (const c of r.respond(input([], 'hi'), ac.signal)) {
        if (c.type === 'text') {
          got.push(c.text);
          ac.abort(new Error('barge-in'));
        }
      }
    })();
    await expect(consume).rejects.toThrow();
    await stub.untilClosed(0);
    expect(got).toEqual(['First part. ']);
    expect(stub.requests[0]!.closedEarly).toBe(true);
  });

  it('talks to Azure OpenAI by deployment with an api-key', async () => {
    stub.behaviour.pieces = ['Azure says hi.'];
    const r = responderFor({ AZURE_OPENAI_ENDPOINT: stub.url, AZURE_OPENAI_DEPLOYMENT: 'dep-1', AZURE_OPENAI_API_KEY: 'az-key', AZURE_OPENAI_API_VERSION: '2024-10-21' });
    expect(await collect(r.respond(input([], 'hi'), new AbortController().signal))).toBe('Azure says hi.');
    const req = stub.requests[0]!;
    const url = new URL(req.url, 'http://x');
    expect(url.pathname).toBe('/openai/deployments/dep-1/chat/completions');
    expect(url.searchParams.get('api-version')).toBe('2024-10-21');
    expect(req.headers['api-key']).toBe('az-key');
    expect(req.body['stream']).toBe(true);
  });

  it('surfaces a server error as a responder error', async () => {
    stub.behaviour.failStatus = 500;
    const r = responderFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${stub.url}/v1` });
    await expect(collect(r.respond(input([], 'hi'), new AbortController().signal))).rejects.toMatchObject({ code: 'VOICE_ERR_RESPONDER' });
  });

  it('trims history to the token budget, newest kept', () => {
    const turns: Turn[] = Array.from({ length: 50 }, (_, i) => ({ seq: i + 1, speaker: i % 2 ? 'assistant' : 'user', text: 'x'.repeat(400), at: i }));
    const kept = trimHistory(turns, 1000);
    expect(kept.length).toBe(9); // 104 approximate tokens each
    expect(kept[kept.length - 1]!.seq).toBe(50);
  });

  it('drives the turn pipeline: streamed sentences are spoken one by one and the turn recorded', async () => {
    stub.behaviour.pieces = ['We open ', 'at nine. ', 'We close ', 'at six. ', 'Anything else?'];
    stub.behaviour.delayMs = 5;
    const h = harness({}, { responder: responderFor({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${stub.url}/v1` }) });
    const { call, outlet } = h.newCall();
    say(call, 'When are you open?');
    const hist = await h.untilTurns(call.callId, 2);
    expect(hist[1]!.text).toBe('We open at nine. We close at six. Anything else?');
    expect(outlet.utterances[0]!.chunks).toHaveLength(3);
    expect(h.spy.calls).toEqual(['We open at nine.', 'We close at six.', 'Anything else?']);
    const sent = stub.requests[0]!.body['messages'] as { role: string; content: string }[];
    expect(sent[sent.length - 1]).toEqual({ role: 'user', content: 'When are you open?' });
  });
});

describe('openai responder with the tool registry (RESPONDER=openai through the wiring)', () => {
  type Msg = { role: string; content: string | null; tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[]; tool_call_id?: string };
  function toolHarness() {
    const env = { RESPONDER: 'openai', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${stub.url}/v1`, OPENAI_MODEL: 'gpt-test' };
    const config = loadConfig({ SYSTEM_PROMPT: 'You are the test agent.', ...env });
    return harness(env, { openai: createOpenAIClient(config.responder) });
  }

  it('runs a streamed tool call (lookup_caller), stores it as a tool turn, sends the result back as role:tool and speaks the final answer', async () => {
    stub.behaviour.toolCalls = [[{ id: 'call_lookup_1', name: 'lookup_caller', arguments: '{}' }]];
    stub.behaviour.pieces = ['Hello Alice. ', 'How can I help?'];
    const h = toolHarness();
    const { call } = h.newCall();
    await h.conversations.updateContext(call.callId, { profile: { name: 'Alice', pin: '9999' } });
    say(call, 'Who am I?');
    const hist = await h.untilTurns(call.callId, 3, 3000);
    expect(hist.map((t) => t.speaker)).toEqual(['user', 'tool', 'assistant']);
    expect(hist[1]!.text).toContain('lookup_caller({}) -> {"found":true,"name":"Alice"');
    expect(hist[2]!.text).toBe('Hello Alice. How can I help?');
    expect(h.spy.calls).toEqual(['Hello Alice.', 'How can I help?']);
    // First request offered the registry's tools; the second carried the call and its result.
    const offered = (stub.requests[0]!.body['tools'] as { type: string; function: { name: string } }[]).map((t) => t.function.name);
    expect(offered).toEqual(expect.arrayContaining(['lookup_caller', 'verify_pin', 'transfer_to_agent', 'end_call']));
    expect(stub.requests).toHaveLength(2);
    const sent = stub.requests[1]!.body['messages'] as Msg[];
    expect(sent.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_lookup_1', type: 'function', function: { name: 'lookup_caller', arguments: '{}' } }] });
    expect(sent.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_lookup_1' });
    expect(JSON.parse(sent.at(-1)!.content!)).toEqual({ found: true, name: 'Alice', verified: false });
    expect(JSON.stringify(stub.requests.map((r) => r.body))).not.toContain('9999');
  });

  it('an unknown tool answers the model with an error result and the call goes on', async () => {
    stub.behaviour.toolCalls = [[{ id: 'call_bad_1', name: 'open_the_vault', arguments: '{"door":"main"}' }]];
    stub.behaviour.pieces = ['Sorry, I cannot do that.'];
    const h = toolHarness();
    const { call } = h.newCall();
    say(call, 'Open the vault.');
    const hist = await h.untilTurns(call.callId, 3, 3000);
    expect(hist.map((t) => t.speaker)).toEqual(['user', 'tool', 'assistant']);
    expect(hist[1]!.text).toContain("unknown tool 'open_the_vault'");
    expect(hist[2]!.text).toBe('Sorry, I cannot do that.');
    const sent = stub.requests[1]!.body['messages'] as Msg[];
    expect(sent.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_bad_1' });
    expect(JSON.parse(sent.at(-1)!.content!)).toEqual({ error: "unknown tool 'open_the_vault'" });
    // The call goes on: the next caller turn is answered as usual.
    stub.behaviour.pieces = ['We open at nine.'];
    say(call, 'When are you open?');
    const more = await h.untilTurns(call.callId, 5, 3000);
    expect(more[4]).toMatchObject({ speaker: 'assistant', text: 'We open at nine.' });
    expect(h.control.ops.some((o) => o.op === 'hangUp')).toBe(false);
  });

  it('caps tool rounds per turn: the fourth request forbids tools (tool_choice none) and its answer is spoken', async () => {
    const lookup = (n: number) => [{ id: `call_loop_${n}`, name: 'lookup_caller', arguments: '{}' }];
    stub.behaviour.toolCalls = [lookup(1), lookup(2), lookup(3)];
    stub.behaviour.pieces = ['I found nothing more.'];
    const h = toolHarness();
    const { call } = h.newCall();
    say(call, 'Look me up again and again.');
    const hist = await h.untilTurns(call.callId, 5, 3000);
    expect(hist.map((t) => t.speaker)).toEqual(['user', 'tool', 'tool', 'tool', 'assistant']);
    expect(hist[4]!.text).toBe('I found nothing more.');
    expect(stub.requests.map((r) => r.body['tool_choice'])).toEqual(['auto', 'auto', 'auto', 'none']);
    expect((stub.requests[3]!.body['messages'] as Msg[]).filter((m) => m.role === 'tool')).toHaveLength(3);
  });

  it('a turn cut after end_call ran (barge-in) drops the action: the next turn does not hang up', async () => {
    stub.behaviour.toolCalls = [[{ id: 'call_end_2', name: 'end_call', arguments: '{}' }]];
    stub.behaviour.pieces = ['Goodbye then.'];
    const config = loadConfig({ RESPONDER: 'openai', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${stub.url}/v1` });
    const actions = new PendingToolActions();
    const registry = new ToolRegistry(builtinTools({ sessions: new MemorySessionStore({ clock: systemClock }, config.ttl), act: (id, a) => actions.set(id, a) }), 1000);
    const r = new OpenAIResponder({ client: createOpenAIClient(config.responder).client, tools: { registry, actions } }, { model: 'm', systemPrompt: undefined, timeoutMs: 5000, historyTokenBudget: 1000 });
    const ac = new AbortController();
    const got: ResponderChunk[] = [];
    for await (const c of r.respond(input([], 'bye'), ac.signal)) {
      got.push(c);
      if (c.type === 'tool') break; // the pipeline stops iterating on barge-in
    }
    expect(got).toEqual([{ type: 'tool', record: 'end_call({}) -> {"status":"the call ends after your next reply; say goodbye"}' }]);
    expect(actions.take('c1')).toBeNull();
  });

  it('end_call hangs up once the goodbye has played; transfer_to_agent asks for the announced transfer', async () => {
    stub.behaviour.toolCalls = [[{ id: 'call_end_1', name: 'end_call', arguments: '{}' }]];
    stub.behaviour.pieces = ['Goodbye.'];
    const h = toolHarness();
    const { call } = h.newCall();
    say(call, 'That is all, bye.');
    await vi.waitFor(() => expect(h.control.ops.filter((o) => o.op === 'hangUp')).toEqual([{ op: 'hangUp', callConnectionId: call.callConnectionId, operationContext: 'agent-hangup' }]), { timeout: 3000, interval: 10 });
    expect((await h.history(call.callId)).at(-1)).toMatchObject({ speaker: 'assistant', text: 'Goodbye.' });

    stub.behaviour.toolCalls = [null, null, [{ id: 'call_xfer_1', name: 'transfer_to_agent', arguments: '{"reason":"billing"}' }]];
    stub.behaviour.pieces = ['Transferring you now.'];
    const other = h.newCall().call;
    const asked: boolean[] = [];
    other.events.on('transferRequested', (e) => void asked.push(e.announced));
    say(other, 'I want a person.');
    await vi.waitFor(() => expect(asked).toEqual([true]), { timeout: 3000, interval: 10 });
    expect((await h.history(other.callId)).at(-1)).toMatchObject({ speaker: 'assistant', text: 'Transferring you now.' });
  });
});
