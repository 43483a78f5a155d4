// Single-replica EventRouter: there is no other replica to forward to, so events for a call that is
// not (yet) local are held, bounded and expiring, until the call becomes local here.
import type { CallbackEnvelope, Clock, EventRouter } from '../../domain/ports.js';

export class MemoryEventRouter implements EventRouter {
  readonly #held = new Map<string, { at: number; env: CallbackEnvelope }[]>();

  constructor(
    private readonly deps: { clock: Clock },
    private readonly cfg: { holdSeconds: number; maxPerCall: number },
  ) {}

  async start(): Promise<void> {}

  async forward(env: CallbackEnvelope): Promise<'forwarded' | 'held'> {
    const list = this.#held.get(env.callId) ?? [];
    list.push({ at: this.deps.clock.now(), env });
    while (list.length > this.cfg.maxPerCall) list.shift();
    this.#held.set(env.callId, list);
    return 'held';
  }

  async takeHeld(callId: string): Promise<CallbackEnvelope[]> {
    const list = this.#held.get(callId) ?? [];
    this.#held.delete(callId);
    const cutoff = this.deps.clock.now() - this.cfg.holdSeconds * 1000;
    return list.filter((h) => h.at >= cutoff).map((h) => h.env);
  }

  async stop(): Promise<void> {
    this.#held.clear();
  }
}
