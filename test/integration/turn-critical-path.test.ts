// The turn's critical path against a real Redis: from the caller's final transcript to the first
// agent frame handed to the media outlet, a turn sends one Redis round trip when the reply's
// sentences are in the replica's in-process TTS tier (the user-turn append that returns the state),
// and two on a replica that has them only in Redis (the append, then one pipelined lookup of all the
// reply's sentences). Context patches and the assistant turn follow the first frame.
// Counted at the client's socket: every write is one round trip (one command, or one pipeline),
// decoded back into its commands; background traffic (the stall probe's PING, the worker heartbeat)
// names no key of the call or of the TTS cache and is left out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandsOf, countRoundTrips, scriptNamesBySha, type RoundTripCounter } from '../support/round-trips.mjs';
import { makeRedisBundle, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';
import { FakeMediaOutlet } from '../support/fake-media-outlet.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { loadScripts } from '../../src/adapters/redis/scripts.js';
import { wireConversation, type ConversationWiring } from '../../src/wiring/conversation-wiring.js';
import { LINES } from '../../src/adapters/responder/local-responder.js';
import type { Synthesizer } from '../../src/domain/ports.js';
import { RedisConversationStore } from '../../src/adapters/redis/redis-conversation-store.js';
import { isVoiceError } from '../../src/domain/errors.js';
import { createRegistry } from '../../src/metrics.js';
import { silentLogger } from '../../src/logger.js';

type Bundle = { impl: StateBundle; cleanup: () => Promise<void> };

/** Script SHA1 → registered name (appendTurnV3 …), to read EVAL / EVALSHA writes. */
const SCRIPT_BY_SHA = scriptNamesBySha(loadScripts().values());
const commands = (write: string) => commandsOf(write, SCRIPT_BY_SHA);

/** A deterministic synthesizer (50 ms of samples per 10 characters): the cache, not the engine, is under test. */
const tone: Synthesizer = {
  id: 'test-tone',
  async synthesize(text, sampleRate) {
    return new Int16Array(Math.max(1, Math.round((sampleRate * 0.05 * text.length) / 10))).fill(100);
  },
};

interface TurnRecord {
  /** Round trips of this call or the TTS cache from the transcript to the first frame, as command names per write. */
  readonly before: string[][];
  /** The same after the first frame, until the turn is fully stored. */
  readonly after: string[][];
}

class Replica {
  readonly rt: RoundTripCounter;
  readonly wiring: ConversationWiring;
  constructor(readonly bundle: Bundle) {
    this.rt = countRoundTrips(bundle.impl.redis!.client, { record: true });
    const { conversations, sessions, ttsCache, config } = bundle.impl;
    this.wiring = wireConversation(
      { conversations, sessions, ttsCache, registry: createRegistry({ defaultMetrics: false }), log: silentLogger(), clock: { now: Date.now, monotonic: () => performance.now() }, clients: { openai: null, speechToken: null }, synthesizer: tone },
      config,
    );
  }

  /** One caller turn on a new call; resolves when the user and assistant turns and the context are stored. */
  async turn(callId: string, text: string): Promise<TurnRecord> {
    const call = new LiveCall({ callId, from: 'caller', to: 'agent', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    const rt = this.rt;
    let atFrame = -1;
    let framed!: () => void;
    const firstFrame = new Promise<void>((r) => (framed = r));
    const outlet = new (class extends FakeMediaOutlet {
      override speak(id: string, pcm: Int16Array): void {
        if (atFrame < 0) {
          atFrame = rt.writes.length;
          framed();
        }
        super.speak(id, pcm);
      }
    })(call);
    call.media = outlet;
    const pipeline = this.wiring.attach(call, { callControl: null });
    const start = rt.writes.length;
    call.events.emit('transcript', { text, final: true, confidence: 0.95, participant: null, at: Date.now() });
    await firstFrame; // nothing of this test reads Redis before it
    const conversations = this.bundle.impl.conversations;
    for (let i = 0; i < 200; i++) {
      const s = await conversations.getState(callId);
      if (s.history.length === 2 && s.context['lastIntent'] !== undefined) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    pipeline.stop();
    const own = (w: string) => w.includes(`{${callId}}`) || w.includes(':tts:');
    const names = (ws: string[]) => ws.filter(own).map((w) => commands(w).map((c) => c[0] as string));
    // This test's polling reads (after the frame) name the call too: getConversation is left out there.
    const after = names(rt.writes.slice(atFrame)).filter((w) => !w.every((c) => c.startsWith('getConversation')));
    return { before: names(rt.writes.slice(start, atFrame)), after };
  }
}

describe('turn critical path (real Redis): round trips from final transcript to first frame', () => {
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    const config = testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl() });
    a = new Replica(await makeRedisBundle(config));
    b = new Replica(await makeRedisBundle(config)); // another replica: its own in-process TTS tier, the same Redis
    // Replica A says both replies once: the scripts are loaded and the sentences cached (A's memory and Redis).
    await a.turn('warm-1', 'When are you open?');
    await a.turn('warm-2', 'What can you do?');
    const cfg = a.bundle.impl.config;
    for (let i = 0; i < 100 && (await client_keys(a, `${cfg.appName}:*:tts:*`)) < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await client_keys(a, `${cfg.appName}:*:tts:*`)).toBe(3); // hours: 1 sentence, help: 2
  }, 30_000);

  afterAll(async () => {
    await a?.bundle.cleanup();
    await b?.bundle.cleanup();
  });

  it('sentences in the replica\'s memory: one round trip, the append that returns the state', async () => {
    for (const [i, text] of ['When are you open?', 'What can you do?'].entries()) {
      const t = await a.turn(`warm-memory-${i}`, text);
      expect(t.before).toEqual([['appendTurnV3']]);
    }
  });

  it('sentences only in Redis: the append, then all the reply\'s sentences in one pipelined lookup', async () => {
    const t = await b.turn('cold-memory', 'What can you do?');
    expect(t.before).toEqual([['appendTurnV3'], ['GET', 'GET']]);
    // Now in B's memory too: the next turn is back to one.
    expect((await b.turn('cold-memory-2', 'What can you do?')).before).toEqual([['appendTurnV3']]);
  });

  it('the context patch and the assistant turn follow the first frame', async () => {
    const t = await a.turn('after-frame', 'When are you open?');
    expect(t.before).toEqual([['appendTurnV3']]);
    const flat = t.after.flat();
    expect(flat).toContain('updateContextV1');
    expect(flat.filter((c) => c === 'appendTurnV3')).toHaveLength(1); // the assistant turn
    const state = await a.bundle.impl.conversations.getState('after-frame');
    expect(state.context).toMatchObject({ lastIntent: 'hours', turnsHandled: 1 });
    expect(state.history.map((h) => [h.speaker, h.text])).toEqual([
      ['user', 'When are you open?'],
      ['assistant', LINES.hours],
    ]);
  });
});

describe('the append that returns the state keeps the rules of the append', () => {
  it('fenced: a stale owner is refused (nothing stored, nothing read); the current owner stores and reads', async () => {
    const bundle = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl() }));
    try {
      const { affinity, config } = bundle.impl;
      const { wired } = bundle.impl.redis!;
      const old = await affinity.acquire('fenced', 'w-old');
      await affinity.release(old);
      const current = await affinity.acquire('fenced', 'w-new');
      expect(current.fence).toBeGreaterThan(old.fence);
      const store = (fence: number) => new RedisConversationStore({ scripts: wired.scripts, keys: wired.keys, fenceOf: () => fence }, { ttl: config.ttl, historyMaxTurns: 50 });
      const err = await store(old.fence).appendTurnAndRead('fenced', { seq: 1, speaker: 'user', text: 'late', at: 1 }).then(() => null, (e: unknown) => e);
      expect(isVoiceError(err, 'STALE_FENCE')).toBe(true);
      expect((await wired.redisConversations.getState('fenced')).history).toEqual([]);
      const ok = await store(current.fence).appendTurnAndRead('fenced', { seq: 1, speaker: 'user', text: 'owner', at: 2 });
      expect(ok).toMatchObject({ stored: true, seq: 1, turnCount: 1 });
      expect(ok.state.history.map((t) => t.text)).toEqual(['owner']);
    } finally {
      await bundle.cleanup();
    }
  });
});

async function client_keys(r: Replica, pattern: string): Promise<number> {
  const client = r.bundle.impl.redis!.client;
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}
