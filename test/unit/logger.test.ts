import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info' }, stream) };
}

describe('logger redaction', () => {
  it('removes secrets, tokens, keys and Authorization headers by path', () => {
    const { lines, log } = capture();
    log.info(
      { secret: 's3cr3t-value', headers: { authorization: 'Bearer eyJabc.def.ghi' }, cfg: { connectionString: 'endpoint=x;accesskey=AAAA', apiKey: 'sk-123' } },
      'hello',
    );
    const out = lines.join('');
    expect(out).not.toContain('s3cr3t-value');
    expect(out).not.toContain('eyJabc');
    expect(out).not.toContain('AAAA');
    expect(out).not.toContain('sk-123');
    expect(out).toContain('[redacted]');
  });

  it('masks phone numbers in fields and messages, keeping the last two digits', () => {
    const { lines, log } = capture();
    log.info({ from: '4:+14255550123', nested: { to: '+1 425 555 0199' } }, 'call from +14255550123');
    const out = lines.join('');
    expect(out).not.toMatch(/4255550123|425 555 0199/);
    expect(out).toContain('+***23');
    expect(out).toContain('+***99');
  });

  it('scrubs inline secrets in strings and error messages', () => {
    expect(scrub('https://x/api/callbacks?secret=abcdef&x=1')).toBe('https://x/api/callbacks?secret=[redacted]&x=1');
    expect(scrub('endpoint=https://a/;accesskey=Zm9vYmFy')).toBe('endpoint=https://a/;accesskey=[redacted]');
    const { lines, log } = capture();
    log.error({ err: new Error('failed for Bearer abc.def.ghi at +14255550123') }, 'boom');
    const out = lines.join('');
    expect(out).not.toContain('abc.def.ghi');
    expect(out).not.toContain('4255550123');
  });

  it('keeps call ids and ordinary numbers', () => {
    const { lines, log } = capture();
    log.child({ callId: 'c-441f1200' }).info({ frames: 1234567 }, 'done');
    const out = JSON.parse(lines[0] ?? '{}') as { callId: string; frames: number };
    expect(out.callId).toBe('c-441f1200');
    expect(out.frames).toBe(1234567);
  });
});
