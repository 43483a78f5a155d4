// The one place call activity becomes console events. The composition root hands it every call this
// replica drives (track, from the supervisor's attach hook) and every stored turn (observe, around
// the conversation store); it publishes ConsoleEvents through `publish` (Redis pub/sub in
// production) and tells `liveChanged` which of its views changed. A sampler (tick) notices phase
// and who-is-speaking changes, so nothing here runs per audio frame and nothing awaits I/O:
// publish is fire-and-forget, a failure is the adapter's to count.
import type { CallOutcome } from '../call-records.js';
import type { ConversationStore } from '../ports.js';
import type { Turn } from '../conversation.js';
import type { LiveCall } from '../live-call.js';
import { consoleTurn, maskCaller, type ConsoleCallView, type ConsoleEvent, type Speaking } from './console-events.js';

export interface ConsoleFeedDeps {
  readonly publish: (event: ConsoleEvent) => void;
  /** A view of this replica was added or changed (view), or its call ended (null, with the outcome). */
  readonly liveChanged: (callId: string, view: ConsoleCallView | null, ended: { outcome: CallOutcome; durationMs: number } | null) => void;
  readonly now: () => number;
}

interface Tracked {
  readonly call: LiveCall;
  callerSpeaking: boolean;
  speaking: Speaking;
  phase: LiveCall['phase'];
  turns: number;
}

export class ConsoleFeed {
  readonly #calls = new Map<string, Tracked>();

  constructor(
    private readonly deps: ConsoleFeedDeps,
    private readonly cfg: { readonly workerId: string },
  ) {}

  /** Starts reporting a call (new, or resumed here after it moved). */
  track(call: LiveCall): void {
    if (this.#calls.has(call.callId)) return;
    const t: Tracked = { call, callerSpeaking: false, speaking: null, phase: call.phase, turns: Math.max(0, call.nextSeq - 1) };
    this.#calls.set(call.callId, t);
    call.events.on('speechStart', () => {
      t.callerSpeaking = true;
      this.#speaking(t);
    });
    call.events.on('speechEnd', () => {
      t.callerSpeaking = false;
      this.#speaking(t);
    });
    call.events.on('bargeIn', (e) => this.deps.publish({ type: 'barge-in', callId: call.callId, at: e.at, playedMs: Math.round(e.playedMs) }));
    call.events.on('ended', (e) => {
      if (!this.#calls.delete(call.callId)) return;
      const durationMs = Math.max(0, this.deps.now() - call.startedAt);
      this.deps.publish({ type: 'ended', callId: call.callId, outcome: e.outcome, durationMs, owner: this.cfg.workerId });
      this.deps.liveChanged(call.callId, null, { outcome: e.outcome, durationMs });
    });
    // Moved to another replica: it reports the call from now on (and overwrites this replica's view
    // of it; removing the view here could land after the new owner's write and hide a live call).
    call.events.on('released', () => void this.#calls.delete(call.callId));
    this.#changed(t);
  }

  /** Wraps the conversation store: every stored turn of a tracked call becomes a console event. */
  observe(store: ConversationStore): ConversationStore {
    return {
      getState: (callId) => store.getState(callId),
      updateContext: (callId, patch) => store.updateContext(callId, patch),
      appendTurn: async (callId, turn) => {
        const result = await store.appendTurn(callId, turn);
        this.#stored(callId, turn);
        return result;
      },
      // The turn's critical path (append and read in one round trip): the console event is published
      // after it returns, fire-and-forget, so it never delays the reply.
      appendTurnAndRead: async (callId, turn) => {
        const result = await store.appendTurnAndRead(callId, turn);
        this.#stored(callId, turn);
        return result;
      },
    };
  }

  #stored(callId: string, turn: Turn): void {
    const t = this.#calls.get(callId);
    if (t && turn.speaker !== 'system') {
      t.turns = Math.max(t.turns, turn.seq);
      this.deps.publish({ type: 'turn', callId, turn: consoleTurn(turn) });
    }
  }

  /** Samples phase and the agent's playout (a property read per call); publishes what changed. */
  tick(): void {
    for (const t of this.#calls.values()) {
      if (t.call.phase !== t.phase) {
        t.phase = t.call.phase;
        if (t.phase !== 'ended') this.#changed(t);
      }
      this.#speaking(t);
    }
  }

  /** The views of every call this replica reports. */
  views(): ConsoleCallView[] {
    const out: ConsoleCallView[] = [];
    for (const t of this.#calls.values()) out.push(this.#view(t));
    return out;
  }

  get size(): number {
    return this.#calls.size;
  }

  #speaking(t: Tracked): void {
    const who: Speaking = t.callerSpeaking ? 'caller' : t.call.media?.speaking ? 'agent' : null;
    if (who === t.speaking) return;
    t.speaking = who;
    this.deps.publish({ type: 'speaking', callId: t.call.callId, who });
  }

  #changed(t: Tracked): void {
    const view = this.#view(t);
    this.deps.publish({ type: 'call', call: view });
    this.deps.liveChanged(t.call.callId, view, null);
  }

  #view(t: Tracked): ConsoleCallView {
    const c = t.call;
    return { callId: c.callId, caller: maskCaller(c.from), state: c.phase, startedAt: c.startedAt, owner: this.cfg.workerId, speaking: t.speaking, turns: t.turns, updatedAt: this.deps.now() };
  }
}
