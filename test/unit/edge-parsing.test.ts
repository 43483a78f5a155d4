import { describe, expect, it } from 'vitest';
import { cloudEventBatch, shortType, toEnvelope } from '../../src/server/cloud-events.js';
import { eventAgeMs, eventGridBatch, incomingCallData, maskRawId, partyOf } from '../../src/server/event-grid.js';
import { callUrls, newCallSecret } from '../../src/server/call-answerer.js';
import { isTransient, toCallControlError } from '../../src/adapters/acs/errors.js';
import { isVoiceError } from '../../src/domain/errors.js';

describe('Event Grid parsing', () => {
  it('normalises identifier kinds and masks phone numbers', () => {
    const p = partyOf({ kind: 'PhoneNumber', rawId: '4:+15550001234', phoneNumber: { value: '+15550001234' } });
    expect(p).toEqual({ rawId: '4:+15550001234', kind: 'phoneNumber', masked: '4:+***34' });
    expect(partyOf({ phoneNumber: { value: '+4930123456' } }).rawId).toBe('4:+4930123456');
    expect(partyOf({ kind: 'communicationUser', rawId: '8:acs:abc' }).masked).toBe('8:acs:abc');
    expect(maskRawId('4:+15550001234', 'unknown')).toBe('4:+***34');
  });

  it('requires the fields an answer needs', () => {
    expect(incomingCallData.safeParse({ to: {}, from: {} }).success).toBe(false);
    expect(incomingCallData.safeParse({ to: {}, from: {}, incomingCallContext: 'x' }).success).toBe(true);
    expect(eventGridBatch.safeParse([]).success).toBe(false);
    expect(eventGridBatch.safeParse({ id: 'a' }).success).toBe(false);
  });

  it('computes event age from eventTime', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const ev = { id: 'a', eventType: 't', eventTime: '2026-01-01T00:00:00Z', data: {} };
    expect(eventAgeMs(ev, now)).toBe(60_000);
    expect(eventAgeMs({ ...ev, eventTime: 'not a date' }, now)).toBeNull();
    expect(eventAgeMs({ ...ev, eventTime: undefined }, now)).toBeNull();
  });
});

describe('CloudEvents parsing', () => {
  it('turns a callback into an envelope for the authenticated call id', () => {
    const parsed = cloudEventBatch.parse([{ id: 'e1', type: 'Microsoft.Communication.CallConnected', data: { callConnectionId: 'x' }, time: 't' }]);
    expect(toEnvelope('call-1', parsed[0]!)).toEqual({ callId: 'call-1', id: 'e1', type: 'CallConnected', data: { callConnectionId: 'x' }, time: 't' });
    expect(shortType('Other.Type')).toBe('Other.Type');
  });

  it('rejects a single object, an empty array and events without id or data', () => {
    expect(cloudEventBatch.safeParse({ id: 'e', type: 't', data: {} }).success).toBe(false);
    expect(cloudEventBatch.safeParse([]).success).toBe(false);
    expect(cloudEventBatch.safeParse([{ type: 't', data: {} }]).success).toBe(false);
    expect(cloudEventBatch.safeParse([{ id: 'e', type: 't' }]).success).toBe(false);
  });
});

describe('call URLs and secrets', () => {
  it('builds callback, media and transcription URLs with the same secret, ws for http and wss for https', () => {
    expect(callUrls('https://voice.example', 'c1', 's1')).toEqual({
      callbackUrl: 'https://voice.example/api/callbacks?callId=c1&secret=s1',
      mediaUrl: 'wss://voice.example/ws/media?callId=c1&secret=s1',
      transcriptionUrl: 'wss://voice.example/ws/transcription?callId=c1&secret=s1',
    });
    expect(callUrls('http://127.0.0.1:8080', 'c1', 's1').mediaUrl).toBe('ws://127.0.0.1:8080/ws/media?callId=c1&secret=s1');
  });

  it('makes distinct secrets of at least 128 bits', () => {
    const a = newCallSecret();
    expect(Buffer.from(a, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(newCallSecret()).not.toBe(a);
  });
});

describe('call-control error mapping', () => {
  it.each([
    [{ name: 'RestError', statusCode: 503 }, true],
    [{ name: 'RestError', statusCode: 429 }, true],
    [{ name: 'RestError', statusCode: 400 }, false],
    [{ name: 'RestError', statusCode: 404 }, false],
    [{ name: 'AbortError' }, true],
    [{ name: 'RestError', code: 'REQUEST_SEND_ERROR' }, true],
    [new Error('boom'), false],
  ])('%o transient=%s', (err, transient) => {
    expect(isTransient(err)).toBe(transient);
    expect(isVoiceError(toCallControlError('answer', err), transient ? 'CALL_CONTROL_TRANSIENT' : 'CALL_CONTROL')).toBe(true);
  });
});
