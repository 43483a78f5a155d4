// Turn latency inside one replica: final transcript → first reply audio queued on the media
// outlet, local responder + Flite (worker thread), TTS cache cold vs warm. Usage: npx tsx bench/turn.ts [--short]
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createRegistry } from '../src/metrics.js';
import { systemClock } from '../src/adapters/system-clock.js';
import { LiveCall } from '../src/domain/live-call.js';
import type { MediaOutlet } from '../src/domain/call-events.js';
import { MemoryConversationStore } from '../src/adapters/memory/memory-conversation-store.js';
import { MemorySessionStore, MemoryTtsCache } from '../src/adapters/memory/memory-session-store.js';
import { wireConversation, type ConversationWiring } from '../src/wiring/conversation-wiring.js';
import type { Responder } from '../src/domain/ports.js';

const rounds = process.argv.includes('--short') ? 3 : 20;
const config = loadConfig({ LOG_LEVEL: 'silent' });
const log = createLogger({ level: 'silent' });
const clock = systemClock;
const deps = (responder?: Responder) => ({
    conversations: new MemoryConversationStore({ clock }, { ttl: config.ttl, historyMaxTurns: 200 }),
    sessions: new MemorySessionStore({ clock }, config.ttl),
    ttsCache: new MemoryTtsCache({ clock }, config.ttl.tts),
    registry: createRegistry({ defaultMetrics: false }),
    log,
    clock,
    clients: { openai: null, speechToken: null },
    ...(responder ? { responder } : {}),
});
// Replies unique per turn (always a cache miss) vs the local agent's fixed answers (cache hits).
const echo: Responder = {
  name: 'echo',
  async *respond(input) {
    yield { type: 'text', text: `You asked about ${input.input.text}.` };
  },
};
const coldWiring = wireConversation(deps(echo), config);
const wiring = wireConversation(deps(), config);

async function turn(wiring: ConversationWiring, text: string): Promise<number> {
  const call = new LiveCall({ callId: randomUUID(), from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log });
  let t0 = 0;
  const first = new Promise<number>((resolve) => {
    const outlet: MediaOutlet = {
      sampleRate: 16000,
      speaking: false,
      speak: () => resolve(performance.now() - t0),
      endUtterance: (id) => queueMicrotask(() => call.events.emit('playoutDone', { utteranceId: id, playedMs: 1, totalMs: 1, interrupted: false })),
      stop: () => ({ utteranceId: null, playedMs: 0 }),
    };
    call.media = outlet;
  });
  wiring.attach(call, { callControl: null });
  t0 = performance.now();
  call.events.emit('transcript', { text, final: true, confidence: 0.9, participant: null, at: Date.now() });
  const ms = await first;
  call.events.emit('ended', { outcome: 'completed' });
  return ms;
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `n=${s.length} p50=${s[Math.floor(s.length / 2)]!.toFixed(1)} ms max=${s[s.length - 1]!.toFixed(1)} ms`;
};
await coldWiring.warmUp(AbortSignal.timeout(30_000));
await wiring.warmUp(AbortSignal.timeout(30_000));
const cold: number[] = [];
for (let i = 0; i < rounds * 3; i++) cold.push(await turn(coldWiring, `topic ${randomUUID().slice(0, 8)}`));
const warm: number[] = [];
for (let i = 0; i < rounds * 3; i++) warm.push(await turn(wiring, 'When are you open?'));
console.log(`turn latency, reply synthesized (cache miss): ${fmt(cold)}`);
console.log(`turn latency, reply from the TTS cache: ${fmt(warm)}`);
process.exit(0);
