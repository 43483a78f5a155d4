// Keeps the authentication state of this replica's live calls from expiring: a call may outlast
// TTL_AUTH, and without its per-call secret every later callback and media reconnect would be refused.
// One timer for all calls, rewriting each state (same content) every third of the TTL.
import type { CallRegistry } from '../domain/live-call.js';
import type { SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';

export interface AuthKeeper {
  refreshNow(): Promise<void>;
  stop(): void;
}

export function keepAuthAlive(deps: { sessions: SessionStore; calls: CallRegistry; log: Logger }, cfg: { ttlSeconds: number }): AuthKeeper {
  let running = false;
  const refreshNow = async () => {
    if (running || deps.calls.size === 0) return;
    running = true;
    try {
      await Promise.all(
        [...deps.calls.values()].map(async (call) => {
          try {
            const auth = await deps.sessions.getAuthState(call.callId);
            if (auth) await deps.sessions.putAuthState(call.callId, auth);
          } catch (err) {
            call.log.warn({ err }, 'auth state refresh failed; will retry');
          }
        }),
      );
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void refreshNow(), Math.max(1000, (cfg.ttlSeconds * 1000) / 3));
  timer.unref();
  return { refreshNow, stop: () => clearInterval(timer) };
}
