// @azure/service-bus 7.9.5 builds management requests (renew-lock, peek) with the v1 API of
// @azure/abort-controller (`new AbortController(parentSignals)`), while the installed copy is the v2
// line, which exports no AbortController. Without this, every lock renewal throws a TypeError. This
// adds the v1 constructor (linked to parent signals) to the module the SDK loads, once, and only when
// it is missing; with a v1 copy installed it does nothing.
import { createRequire } from 'node:module';

class LinkedAbortController extends AbortController {
  constructor(parents: readonly AbortSignal[] = []) {
    super();
    for (const p of parents) {
      if (p.aborted) {
        this.abort(p.reason);
        break;
      }
      p.addEventListener('abort', () => this.abort(p.reason), { once: true });
    }
  }
}

let applied = false;

export function ensureServiceBusAbortControllerCompat(): void {
  if (applied) return;
  applied = true;
  const require = createRequire(require_base());
  const sbEntry = require.resolve('@azure/service-bus');
  const sbRequire = createRequire(sbEntry);
  const mod = sbRequire('@azure/abort-controller') as Record<string, unknown>;
  if (typeof mod.AbortController !== 'function') {
    Object.defineProperty(mod, 'AbortController', { value: LinkedAbortController, enumerable: true });
  }
}

function require_base(): string {
  return import.meta.url;
}
