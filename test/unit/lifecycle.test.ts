import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/server/lifecycle.js';
import { silentLogger } from '../../src/logger.js';

describe('Lifecycle', () => {
  it('waits for in-flight work, then runs close hooks in reverse order, once', async () => {
    const lc = new Lifecycle({ drainTimeoutMs: 5000 }, silentLogger());
    const order: string[] = [];
    let finish!: () => void;
    lc.track(new Promise<void>((r) => (finish = r)).then(() => order.push('work')));
    lc.onClose('first', () => {
      order.push('close-first');
    });
    lc.onClose('second', () => {
      order.push('close-second');
    });
    const a = lc.shutdown('test');
    const b = lc.shutdown('again');
    expect(lc.draining).toBe(true);
    setTimeout(finish, 20);
    await Promise.all([a, b]);
    expect(order).toEqual(['work', 'close-second', 'close-first']);
  });

  it('closes anyway when the drain deadline passes', async () => {
    const lc = new Lifecycle({ drainTimeoutMs: 30 }, silentLogger());
    let closed = false;
    lc.track(new Promise(() => undefined));
    lc.onClose('c', () => {
      closed = true;
    });
    await lc.shutdown('test');
    expect(closed).toBe(true);
    expect(lc.inflight).toBe(1);
  });
});
