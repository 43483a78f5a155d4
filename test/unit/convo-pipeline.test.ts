// The conversation loop end to end inside one replica: real local responder, real Flite synthesis,
// memory stores, a fake media outlet standing in for the media path.
import { pinDigest } from '../../src/domain/caller-pin.js';
import { describe, expect, it, vi } from 'vitest';
import type { Responder, ResponderChunk, ResponderInput } from '../../src/domain/ports.js';
import { LINES, LocalResponder } from '../../src/adapters/responder/local-responder.js';
import { FAILURE_GOODBYE_LINE, FALLBACK_LINE, FILLER_LINE, playedText } from '../../src/domain/turn/turn-policy.js';
import { harness, keypad, say } from '../support/convo-harness.js';
import { speechShare } from '../support/fvad.js';

describe('conversation loop', () => {
  it('answers three questions with real speech and records 3 user + 3 assistant turns in order', async () => {
    const h = harness();
    const { call, outlet } = h.newCall();
    const questions = ['What are your opening hours?', 'What is my account balance?', 'Tell me about the weather'];
    for (const [i, q] of questions.entries()) {
      say(call, q);
      await h.untilTurns(call.callId, (i + 1) * 2);
    }
    const hist = await h.history(call.callId);
    expect(hist.map((t) => t.speaker)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(hist.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(hist.filter((t) => t.speaker === 'user').map((t) => t.text)).toEqual(questions);
    expect(hist.filter((t) => t.speaker === 'assistant').map((t) => t.text)).toEqual([LINES.hours, LINES.askPin, LINES.help]);
    expect(hist.some((t) => t.interrupted)).toBe(false);
    expect(outlet.utterances).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const pcm = outlet.pcm(i);
      expect(pcm.length).toBeGreaterThan(16000 * 0.5);
      expect(await speechShare(pcm)).toBeGreaterThan(0.6);
    }
    const turnHist = await h.registry.getSingleMetric('voice_turn_latency_seconds')!.get();
    expect(turnHist.values.find((v) => (v as { metricName?: string }).metricName === 'voice_turn_latency_seconds_count')?.value).toBe(3);
  });

  it('greets once on mediaConnected, by name from the profile', async () => {
    const h = harness();
    const { call } = h.newCall();
    await h.conversations.updateContext(call.callId, { profile: { name: 'Alice' } });
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: true });
    const hist = await h.untilTurns(call.callId, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await h.history(call.callId)).toHaveLength(1);
    expect(hist[0]).toMatchObject({ speaker: 'assistant', text: 'Hello Alice, thanks for calling. How can I help you today?' });
  });

  it('keeps only the played part of an interrupted reply, flagged', async () => {
    const h = harness();
    const { call, outlet } = h.newCall({ autoComplete: false });
    say(call, 'When are you open?');
    await outlet.untilEnded(1);
    const total = outlet.totalMs(outlet.utterances[0]!);
    outlet.bargeIn(0.4);
    const hist = await h.untilTurns(call.callId, 2);
    const reply = hist[1]!;
    const words = LINES.hours.split(' ');
    expect(reply.interrupted).toBe(true);
    expect(reply.playedMs).toBe(Math.round(total * 0.4));
    expect(reply.text).toBe(words.slice(0, Math.round(words.length * 0.4)).join(' '));
    expect(reply.text).toBe(playedText(LINES.hours, total * 0.4, total));
    expect(LINES.hours.startsWith(reply.text)).toBe(true);
    expect(reply.text.length).toBeLessThan(LINES.hours.length);
  });

  it('serves a repeated reply from the TTS cache without synthesizing again', async () => {
    const h = harness();
    const { call } = h.newCall();
    say(call, 'What are your opening hours?');
    await h.untilTurns(call.callId, 2);
    const synthesized = h.spy.calls.length;
    expect(synthesized).toBeGreaterThan(0);
    const { call: other } = h.newCall();
    say(other, 'When do you open?');
    await h.untilTurns(other.callId, 2);
    expect(h.spy.calls.length).toBe(synthesized);
    expect(await h.metric('voice_tts_cache_hits_total')).toBe(synthesized);
    expect(h.wiring.synthesizer!.hits).toBe(synthesized);
  });

  it('speaks the fallback line when the responder never answers, and the call continues', async () => {
    const local = new LocalResponder({ sessions: { getAuthState: async () => null } as never });
    let first = true;
    const responder: Responder = {
      name: 'stuck-once',
      respond(input: ResponderInput, signal: AbortSignal): AsyncIterable<ResponderChunk> {
        if (!first) return local.respond(input, signal);
        first = false;
        return (async function* () {
          await new Promise(() => undefined); // never yields, ignores the signal
          yield { type: 'text', text: 'never' } as const;
        })();
      },
    };
    const h = harness({ RESPONDER_TIMEOUT_MS: '150' }, { responder });
    const { call } = h.newCall();
    say(call, 'What are your opening hours?');
    await h.untilTurns(call.callId, 2);
    say(call, 'What are your opening hours?');
    const hist = await h.untilTurns(call.callId, 4);
    expect(hist.filter((t) => t.speaker === 'assistant').map((t) => t.text)).toEqual([FALLBACK_LINE, LINES.hours]);
    expect(await h.metric('voice_turn_fallbacks_total', { reason: 'timeout' })).toBe(1);
    expect(h.control.ops.some((o) => o.op === 'hangUp')).toBe(false);
  });

  it('says goodbye and hangs up after three consecutive responder failures', async () => {
    const responder: Responder = {
      name: 'broken',
      // eslint-disable-next-line require-yield
      async *respond(): AsyncIterable<ResponderChunk> {
        throw new Error('model unavailable');
      },
    };
    const h = harness({}, { responder });
    const { call } = h.newCall();
    for (let i = 1; i <= 3; i++) {
      say(call, `question ${i}`);
      await h.untilTurns(call.callId, i * 2);
    }
    const hist = await h.history(call.callId);
    expect(hist.filter((t) => t.speaker === 'assistant').map((t) => t.text)).toEqual([FALLBACK_LINE, FALLBACK_LINE, FAILURE_GOODBYE_LINE]);
    await waitForHangup(h.control.ops);
    expect(await h.metric('voice_turn_fallbacks_total', { reason: 'error' })).toBe(3);
  });

  it('plays a filler line when every responder slot is busy, and counts it', async () => {
    const local = new LocalResponder({ sessions: { getAuthState: async () => null } as never });
    const responder: Responder = {
      name: 'slow',
      async *respond(input, signal) {
        await new Promise((r) => setTimeout(r, 400));
        yield* local.respond(input, signal);
      },
    };
    const h = harness({ RESPONDER_CONCURRENCY: '1' }, { responder });
    const a = h.newCall();
    const b = h.newCall();
    say(a.call, 'What are your opening hours?');
    await new Promise((r) => setTimeout(r, 20));
    say(b.call, 'What are your opening hours?');
    await h.untilTurns(a.call.callId, 2);
    const histB = await h.untilTurns(b.call.callId, 2);
    expect(await h.metric('voice_responder_saturated_total')).toBe(1);
    expect(h.spy.calls).toContain(FILLER_LINE);
    expect(b.outlet.utterances[0]!.utteranceId).toMatch(/-filler$/);
    expect(a.outlet.utterances.every((u) => !u.utteranceId.endsWith('-filler'))).toBe(true);
    expect(histB.map((t) => t.text)).toEqual(['What are your opening hours?', LINES.hours]);
  });

  it('verifies a DTMF PIN (auth state in the session store) and unlocks the balance', async () => {
    const h = harness();
    const { call } = h.newCall();
    // As at IncomingCall: the profile (without its PIN) in the context, the PIN's digest in the auth state.
    await h.conversations.updateContext(call.callId, { profile: { name: 'Alice', hasPin: true, accountBalance: 42.5 } });
    await h.sessions.putAuthState(call.callId, { secret: 's', callerVerified: false, failedAttempts: 0, pinDigest: pinDigest(call.callId, '4321') });
    say(call, 'What is my balance?');
    await h.untilTurns(call.callId, 2);
    keypad(call, '1234#');
    await h.untilTurns(call.callId, 4);
    expect(await h.sessions.getAuthState(call.callId)).toMatchObject({ callerVerified: false, failedAttempts: 1 });
    keypad(call, '4321#');
    const hist = await h.untilTurns(call.callId, 6);
    expect(await h.sessions.getAuthState(call.callId)).toMatchObject({ callerVerified: true, failedAttempts: 1 });
    expect(hist.map((t) => t.text)).toEqual([
      'What is my balance?',
      LINES.askPin,
      '[dtmf ****]',
      LINES.wrongPin,
      '[dtmf ****]',
      `${LINES.verified} Your account balance is $42.50.`,
    ]);
    expect(hist[2]).toMatchObject({ kind: 'dtmf' });
    say(call, 'and my balance again please');
    const after = await h.untilTurns(call.callId, 8);
    expect(after[7]!.text).toBe('Your account balance is $42.50.');
  });

  it('a known caller with no PIN on file cannot verify with the demo PIN', async () => {
    const h = harness();
    const { call } = h.newCall();
    await h.conversations.updateContext(call.callId, { profile: { name: 'Bob', hasPin: false, accountBalance: 7 } });
    await h.sessions.putAuthState(call.callId, { secret: 's', callerVerified: false, failedAttempts: 0 });
    say(call, 'What is my balance?');
    await h.untilTurns(call.callId, 2);
    keypad(call, '1234#');
    const hist = await h.untilTurns(call.callId, 4);
    expect(hist[3]!.text).toBe(LINES.wrongPin);
    expect(await h.sessions.getAuthState(call.callId)).toMatchObject({ callerVerified: false, failedAttempts: 1 });
  });

  it('context patches wait for the first frame, then are stored in order; a turn cut short before speaking still stores them', async () => {
    const local = new LocalResponder({ sessions: { getAuthState: async () => null } as never });
    let calls = 0;
    const responder: Responder = {
      name: 'patchy',
      async *respond(input, signal) {
        calls++;
        if (calls === 1) {
          yield { type: 'context', patch: { step: 1 } };
          yield { type: 'context', patch: { step: 2, order: ['a'] } };
          yield { type: 'text', text: 'Here is the answer you asked for. ' };
          return;
        }
        if (calls === 2) {
          yield { type: 'context', patch: { cut: true } };
          await new Promise((r) => setTimeout(r, 5000)); // superseded before any text
          return;
        }
        yield* local.respond(input, signal);
      },
    };
    const h = harness({}, { responder });
    const { call, outlet } = h.newCall();
    const seen: string[] = [];
    const update = h.conversations.updateContext.bind(h.conversations);
    h.conversations.updateContext = async (id, patch) => {
      seen.push(`context:${Object.keys(patch).join(',')}:after ${outlet.utterances.length} utterance(s)`);
      return update(id, patch);
    };
    say(call, 'Tell me');
    await h.untilTurns(call.callId, 2);
    expect(seen).toEqual(['context:step:after 1 utterance(s)', 'context:step,order:after 1 utterance(s)']);
    say(call, 'Something slow');
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 5000, interval: 5 });
    say(call, 'When are you open?');
    await h.untilTurns(call.callId, 5);
    await vi.waitFor(async () => expect((await h.conversations.getState(call.callId)).context).toMatchObject({ step: 2, order: ['a'], cut: true, lastIntent: 'hours' }), { timeout: 5000, interval: 10 });
  });

  it('a new final transcript supersedes the turn in flight: playback stopped, later sentences dropped', async () => {
    const local = new LocalResponder({ sessions: { getAuthState: async () => null } as never });
    let calls = 0;
    const responder: Responder = {
      name: 'two-part',
      async *respond(input, signal) {
        if (++calls > 1) return yield* local.respond(input, signal);
        yield { type: 'text', text: 'Here is the first sentence of a long answer. ' };
        await new Promise((r) => setTimeout(r, 300));
        yield { type: 'text', text: 'And this second sentence must never be spoken.' };
      },
    };
    const h = harness({}, { responder });
    const { call, outlet } = h.newCall({ autoComplete: false });
    say(call, 'Tell me everything');
    await vi.waitFor(() => expect(outlet.utterances).toHaveLength(1), { timeout: 5000, interval: 10 });
    outlet.autoComplete = true;
    say(call, 'Actually, when are you open?');
    const hist = await h.untilTurns(call.callId, 4);
    await new Promise((r) => setTimeout(r, 400));
    expect(outlet.stops).toEqual(['transcript']);
    expect(await h.metric('voice_turn_superseded_total')).toBe(1);
    expect(h.spy.calls).not.toContain('And this second sentence must never be spoken.');
    expect(hist.map((t) => [t.speaker, t.text, t.interrupted ?? false])).toEqual([
      ['user', 'Tell me everything', false],
      ['assistant', '', true],
      ['user', 'Actually, when are you open?', false],
      ['assistant', LINES.hours, false],
    ]);
  });

  it('warm-up fills the TTS cache so the fixed lines are never synthesized during a call', async () => {
    const h = harness();
    await h.wiring.warmUp(new AbortController().signal);
    const warmed = h.spy.calls.length;
    expect(h.spy.calls).toEqual(expect.arrayContaining([FILLER_LINE, 'How can I help you today?', LINES.hours]));
    const { call } = h.newCall();
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    await h.untilTurns(call.callId, 1);
    say(call, 'When are you open?');
    await h.untilTurns(call.callId, 3);
    expect(h.spy.calls.length).toBe(warmed);
  });

  it('records a reply still playing when the call disconnects, before the call ends', async () => {
    const h = harness();
    const { call, outlet } = h.newCall({ autoComplete: false });
    say(call, 'When are you open?');
    await outlet.untilEnded(1);
    call.events.emit('disconnected', { reason: 'caller hung up' });
    const hist = await h.untilTurns(call.callId, 2);
    expect(hist[1]).toMatchObject({ speaker: 'assistant', interrupted: true });
    expect(LINES.hours.startsWith(hist[1]!.text)).toBe(true);
    outlet.complete(outlet.utterances[0]!.utteranceId);
    await new Promise((r) => setTimeout(r, 50));
    expect(await h.history(call.callId)).toHaveLength(2);
  });

  it('with TTS=acs speaks through playText and records the turn on PlayCompleted', async () => {
    const h = harness({ TTS: 'acs' }, { synthesizer: null });
    const { call, outlet } = h.newCall();
    say(call, 'What are your opening hours?');
    await waitUntil(() => h.control.ops.some((o) => o.op === 'playText'));
    const play = h.control.ops.find((o) => o.op === 'playText') as { text: string; operationContext: string };
    expect(play.text).toBe(LINES.hours);
    expect(outlet.utterances).toHaveLength(0);
    call.events.emit('callback', { type: 'PlayCompleted', data: { operationContext: play.operationContext } });
    const hist = await h.untilTurns(call.callId, 2);
    expect(hist[1]).toMatchObject({ speaker: 'assistant', text: LINES.hours });
  });

  it('says goodbye and hangs up when the caller is done', async () => {
    const h = harness();
    const { call } = h.newCall();
    say(call, 'That is all, goodbye');
    const hist = await h.untilTurns(call.callId, 2);
    expect(hist[1]!.text).toBe(LINES.goodbye);
    await waitForHangup(h.control.ops);
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    if (!cond()) throw new Error('not yet');
  }, { timeout: 5000, interval: 10 });
}

async function waitForHangup(ops: readonly { op: string }[]): Promise<void> {
  await waitUntil(() => ops.some((o) => o.op === 'hangUp'));
}
