// Every parser path against the corpus of documented ACS / Event Grid samples in test/fixtures/acs:
// the general media parser (parseInbound), the fast AudioData scan (scanAudioData), the SDK's own
// StreamingData.parse as the reference of what ACS sends, the Event Grid IncomingCall schema, and the
// stream-failure decisions for Call Automation callbacks. Sources are named per fixture.
import { readFileSync } from 'node:fs';
import { StreamingData } from '@azure/communication-call-automation';
import { describe, expect, it } from 'vitest';
import { newAudioDataSpan, scanAudioData } from '../../src/adapters/acs/audio-data-scan.js';
import { normalizeTone, parseInbound } from '../../src/adapters/acs/media-codec.js';
import { streamFailureDecision, isReestablished } from '../../src/domain/media-failure.js';
import { eventGridBatch, incomingCallData, partyOf } from '../../src/server/event-grid.js';

const load = <T>(name: string): T[] => JSON.parse(readFileSync(new URL(`../fixtures/acs/${name}`, import.meta.url), 'utf8')) as T[];

interface MediaFixture {
  readonly name: string;
  readonly source: string;
  readonly raw?: unknown;
  readonly rawText?: string;
  readonly expect: Record<string, unknown>;
  readonly fastPath?: boolean;
}
interface EventFixture {
  readonly name: string;
  readonly source: string;
  readonly raw: { data: Record<string, unknown>; type?: string };
  readonly decision?: string;
}

const media = load<MediaFixture>('media-messages.json');
const text = (f: MediaFixture) => f.rawText ?? JSON.stringify(f.raw);

describe('documented media messages: general parser (parseInbound)', () => {
  it.each(media.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const m = parseInbound(text(f)) as unknown as Record<string, unknown>;
    const { words, offset, duration, ...rest } = f.expect;
    expect(m).toMatchObject(rest);
    if (words !== undefined) expect((m.words as unknown[]).length).toBe(words);
    if (offset !== undefined) expect(m.offset).toBe(offset === null ? null : BigInt(offset as string));
    if (duration !== undefined) expect(m.duration).toBe(duration === null ? null : BigInt(duration as string));
  });
});

describe('documented media messages: fast AudioData scan agrees with the general parser', () => {
  it.each(media.filter((f) => f.fastPath).map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const buf = Buffer.from(text(f));
    const span = newAudioDataSpan();
    expect(scanAudioData(buf, span)).toBe(true);
    const m = parseInbound(text(f));
    if (m.kind !== 'AudioData') throw new Error(`parsed as ${m.kind}`);
    expect(span.participant).toBe(m.participant);
    expect(span.silent).toBe(m.silent);
    expect(buf.toString('latin1', span.dataStart, span.dataEnd)).toBe(m.data);
  });
});

describe('documented media messages: the SDK (StreamingData.parse) reads them too', () => {
  // The SDK's parser throws on TranscriptionData without `words` (it maps words unconditionally) and on
  // a null participantRawID (createIdentifierFromRawId(null)); the worker accepts both.
  const sdkReadable = media.filter((f) => !(f.name.includes('no words') || f.name.includes('null') || f.name.startsWith('DtmfData')));
  it.each(sdkReadable.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    expect(() => StreamingData.parse(text(f))).not.toThrow();
  });
});

describe('DTMF tones: single characters and the DtmfTone names', () => {
  it('normalises names and characters; refuses anything else', () => {
    expect(['one', 'Two', 'nine', 'zero', 'pound', 'asterisk', 'a', 'D', '#', '*', '7'].map(normalizeTone)).toEqual(['1', '2', '9', '0', '#', '*', 'A', 'D', '#', '*', '7']);
    expect(normalizeTone('eleven')).toBeNull();
    expect(parseInbound('{"kind":"DtmfData","dtmfData":{"data":"eleven"}}')).toMatchObject({ kind: 'rejected', reason: 'shape' });
  });
});

describe('documented IncomingCall events (Event Grid schema)', () => {
  it.each(load<EventFixture>('incoming-call-events.json').map((f) => [f.name, f] as const))('%s', (_name, f) => {
    expect(eventGridBatch.safeParse([f.raw]).success).toBe(true);
    const d = incomingCallData.safeParse(f.raw.data);
    expect(d.success).toBe(true);
    if (!d.success) return;
    expect(partyOf(d.data.from).rawId.length).toBeGreaterThan(0);
    // null optional fields come out as absent
    for (const k of ['serverCallId', 'callerDisplayName', 'correlationId', 'customContext'] as const) {
      if ((f.raw.data as Record<string, unknown>)[k] === null) expect(d.data[k]).toBeUndefined();
    }
  });
});

describe('documented Call Automation failure callbacks', () => {
  const callbacks = load<EventFixture>('callback-events.json');
  it.each(callbacks.filter((f) => f.decision === 'wait' || f.decision === 'fatal').map((f) => [f.name, f] as const))('%s', (_name, f) => {
    expect(streamFailureDecision(f.raw.data)).toBe(f.decision);
  });
  it('recognises a re-established stream', () => {
    const started = callbacks.find((f) => f.decision === 'recovered');
    expect(started && isReestablished(started.raw.data)).toBe(true);
  });
});
