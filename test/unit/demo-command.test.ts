import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeRedis } from '../../src/demo/redis-probe.js';
import { runDemoCommand } from '../../src/demo/demo-command.js';
import { callReportFrom, formatDemoReport } from '../../src/demo/demo-report.js';

function listen(onData: (reply: (s: string) => void) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', () => onData((s) => sock.end(s)));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, url: `redis://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
    }),
  );
}

describe('demo: redis probe', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('answers true for a server that replies in RESP (PONG or an auth error)', async () => {
    const pong = await listen((reply) => reply('+PONG\r\n'));
    const noauth = await listen((reply) => reply('-NOAUTH Authentication required.\r\n'));
    servers.push(pong.server, noauth.server);
    expect(await probeRedis(pong.url)).toBe(true);
    expect(await probeRedis(noauth.url)).toBe(true);
  });

  it('answers false for a silent server, a non-RESP reply, a closed port or a bad URL', async () => {
    const silent = await listen(() => undefined);
    const http = await listen((reply) => reply('HTTP/1.1 400 Bad Request\r\n\r\n'));
    servers.push(silent.server, http.server);
    expect(await probeRedis(silent.url, 100)).toBe(false);
    expect(await probeRedis(http.url)).toBe(false);
    const closed = await listen(() => undefined);
    const closedUrl = closed.url;
    await new Promise((r) => closed.server.close(r));
    expect(await probeRedis(closedUrl, 200)).toBe(false);
    expect(await probeRedis('not a url')).toBe(false);
  });
});

describe('demo: report and options', () => {
  it('limits printed transcripts but keeps every call in the figures', () => {
    const calls = Array.from({ length: 6 }, (_, i) =>
      callReportFrom({
        callId: `call-${i}-0000000`,
        label: 'qa',
        outcome: 'hung up by agent',
        ok: true,
        durationMs: 1000,
        history: [
          { seq: 1, speaker: 'user', text: `question ${i}`, at: 1 },
          { seq: 2, speaker: 'assistant', text: `answer ${i}`, at: 2 },
        ],
        timings: [{ utteranceId: `u${i}`, kind: 'speech', turnMs: 10 + i, responderMs: 1, ttsMs: 5, sentences: 1, filler: false, fallback: null }],
      }),
    );
    const text = formatDemoReport({ startedAt: 0, durationMs: 1000, responder: 'local', tts: 'local', state: 'memory', calls }, { transcripts: 3 });
    expect(text).toContain('6 calls, 6 ok');
    expect(text).toContain('question 2');
    expect(text).not.toContain('question 3');
    expect(text).toContain('(transcripts of the first 3 of 6 calls shown)');
    expect(text).toMatch(/turn \(input → first audio queued\)\s+6\s/);
  });

  it('refuses bad options with exit code 2 before starting anything', async () => {
    expect(await runDemoCommand(['--calls', '0'])).toBe(2);
    expect(await runDemoCommand(['--scenario', 'nope'])).toBe(2);
    expect(await runDemoCommand(['--bogus'])).toBe(2);
  });
});
