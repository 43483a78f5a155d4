import { performance } from 'node:perf_hooks';
import type { Clock } from '../domain/ports.js';

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
});
