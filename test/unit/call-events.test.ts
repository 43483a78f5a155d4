// The per-call event hub: unsubscribing while an event is being delivered never makes another
// listener miss that event (the turn pipeline unsubscribes everything when it sees 'ended').
import { describe, expect, it } from 'vitest';
import { CallEvents } from '../../src/domain/call-events.js';

describe('CallEvents', () => {
  it('delivers to every listener even when one unsubscribes itself during the emit', () => {
    const ev = new CallEvents(() => undefined);
    const seen: string[] = [];
    const offFirst = ev.on('ended', () => {
      seen.push('first');
      offFirst();
    });
    ev.on('ended', () => seen.push('second'));
    ev.on('ended', () => seen.push('third'));
    ev.emit('ended', { outcome: 'completed' });
    expect(seen).toEqual(['first', 'second', 'third']);
    ev.emit('ended', { outcome: 'completed' });
    expect(seen).toEqual(['first', 'second', 'third', 'second', 'third']);
  });

  it('a listener removed by an earlier one during the emit still gets that event, then no more', () => {
    const ev = new CallEvents(() => undefined);
    const seen: string[] = [];
    const offs: (() => void)[] = [];
    offs.push(ev.on('disconnected', () => {
      seen.push('a');
      for (const off of offs) off();
    }));
    offs.push(ev.on('disconnected', () => seen.push('b')));
    ev.emit('disconnected', { reason: 'x' });
    ev.emit('disconnected', { reason: 'y' });
    expect(seen).toEqual(['a', 'b']);
  });

  it('unsubscribing twice, or after clear(), is harmless; a throwing listener does not stop the rest', () => {
    const errors: unknown[] = [];
    const ev = new CallEvents((err) => errors.push(err));
    const seen: number[] = [];
    const off = ev.on('dtmf', () => {
      throw new Error('boom');
    });
    ev.on('dtmf', (e) => seen.push(e.at));
    ev.emit('dtmf', { tone: '1', at: 1 });
    off();
    off();
    ev.emit('dtmf', { tone: '2', at: 2 });
    ev.clear();
    off();
    ev.emit('dtmf', { tone: '3', at: 3 });
    expect(seen).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
  });
});
