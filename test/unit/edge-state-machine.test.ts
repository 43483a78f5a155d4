import { describe, expect, it } from 'vitest';
import { CALL_PHASES, CallStateMachine, isLegalTransition, phaseForCallback } from '../../src/domain/call-state-machine.js';
import type { CallPhase } from '../../src/domain/call-records.js';

describe('call state machine', () => {
  it('walks the happy path ringing → answering → connected → streaming → disconnecting → ended', () => {
    const seen: string[] = [];
    const m = new CallStateMachine('ringing', { transition: (f, t) => seen.push(`${f}>${t}`) });
    for (const p of ['answering', 'connected', 'streaming', 'disconnecting', 'ended'] as CallPhase[]) expect(m.to(p, 'test')).toBe(true);
    expect(m.phase).toBe('ended');
    expect(m.ended).toBe(true);
    expect(seen).toEqual(['ringing>answering', 'answering>connected', 'connected>streaming', 'streaming>disconnecting', 'disconnecting>ended']);
  });

  it.each([
    ['ringing', 'connected'],
    ['ringing', 'streaming'],
    ['answering', 'streaming'],
    ['answering', 'ringing'],
    ['connected', 'answering'],
    ['disconnecting', 'connected'],
    ['disconnecting', 'streaming'],
    ['ended', 'connected'],
    ['ended', 'disconnecting'],
  ] as [CallPhase, CallPhase][])('ignores and reports %s → %s without throwing', (from, to) => {
    const illegal: string[] = [];
    const m = new CallStateMachine(from, { illegal: (f, t, r) => illegal.push(`${f}>${t}:${r}`) });
    expect(() => m.to(to, 'late event')).not.toThrow();
    expect(m.to(to, 'late event')).toBe(false);
    expect(m.phase).toBe(from);
    expect(illegal).toEqual([`${from}>${to}:late event`, `${from}>${to}:late event`]);
  });

  it('lets every live phase end, and nothing leave ended', () => {
    for (const p of CALL_PHASES) {
      expect(isLegalTransition(p, 'ended')).toBe(p !== 'ended');
      for (const q of CALL_PHASES) if (p === 'ended') expect(isLegalTransition(p, q)).toBe(false);
    }
  });

  it('treats a move to the current phase as a silent no-op', () => {
    const illegal: string[] = [];
    const m = new CallStateMachine('connected', { illegal: (f, t) => illegal.push(`${f}>${t}`) });
    expect(m.to('connected', 'dup')).toBe(false);
    expect(illegal).toEqual([]);
  });

  it('maps callbacks to phases', () => {
    expect(phaseForCallback('CallConnected')).toBe('connected');
    expect(phaseForCallback('MediaStreamingStarted')).toBe('streaming');
    expect(phaseForCallback('CallDisconnected')).toBe('ended');
    expect(phaseForCallback('PlayCompleted')).toBeNull();
  });
});
