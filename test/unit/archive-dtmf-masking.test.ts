// DTMF may be a PIN: the archive job (Cosmos), the transcript cache (Redis) and the transcript route
// never hold the tones in clear — each keypad input is `[dtmf ****]` with a count.
import { describe, expect, it } from 'vitest';
import { buildArchiveJob, trackCallForArchive, withMaskedDtmf } from '../../src/domain/archive/job-builder.js';
import { emptyConversation, type Turn } from '../../src/domain/conversation.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { silentLogger } from '../../src/logger.js';

const mkCall = () => new LiveCall({ callId: 'c-dtmf', from: '4:+***12', to: '4:+***34', correlationId: null, startedAt: 1000, log: silentLogger() });
const pinTurn: Turn = { seq: 1, speaker: 'user', text: '[dtmf ****]', at: 2000, kind: 'dtmf', confidence: 1 };

describe('DTMF in the archive job', () => {
  it('tones recorded live (1,2,3,4,#) become one masked input with a count; no digit survives', () => {
    const call = mkCall();
    const markers = trackCallForArchive(call);
    for (const [i, tone] of ['1', '2', '3', '4', '#'].entries()) call.events.emit('dtmf', { tone, at: 2000 + i * 100 });
    const job = buildArchiveJob({ call, conversation: { ...emptyConversation(call.callId), history: [pinTurn], turnCount: 1 }, outcome: 'completed', endedAt: 5000, markers });
    expect(job.dtmf).toEqual([{ at: 2000, tone: '[dtmf ****]', count: 5 }]);
    expect(job.counters).toMatchObject({ dtmfInputs: 1, dtmfTones: 5 });
    expect(JSON.stringify(job)).not.toMatch(/"tone":"[0-9#*]"|1,2,3,4|1234/);
  });

  it('without live markers, the masked turn text is taken as it is (not split into "[", "d", "t", ...)', () => {
    const job = buildArchiveJob({ call: mkCall(), conversation: { ...emptyConversation('c-dtmf'), history: [pinTurn], turnCount: 1 }, outcome: 'completed', endedAt: 5000 });
    expect(job.dtmf).toEqual([{ at: 2000, tone: '[dtmf ****]', count: 4 }]);
  });

  it('a stored document with clear tones (archived before masking) is masked before any route returns it', () => {
    const legacy = { dtmf: [{ at: 1, tone: '1' }, { at: 2, tone: '#' }], turns: [{ ...pinTurn, text: '1234#' }] };
    const masked = withMaskedDtmf(legacy);
    expect(masked.dtmf.map((d) => d.tone)).toEqual(['[dtmf *]', '[dtmf ]']);
    expect(masked.turns[0]?.text).toBe('[dtmf ****]');
  });
});
