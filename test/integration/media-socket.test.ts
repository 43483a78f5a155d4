// The media WebSocket end to end against a real worker: refused upgrades never open a socket, a real
// ws client with valid ACS auth gets frames handled, VAD events, paced outbound audio and barge-in;
// a reconnect continues the same call; a garbage-sending socket is closed without touching others.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { silentLogger } from '../../src/logger.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { testConfig } from '../support/test-env.js';
import { startMediaJwks, type MediaJwks } from '../support/media-jwks.js';

const raw = readFileSync(new URL('../fixtures/speech-16k.pcm', import.meta.url));
const FRAMES: string[] = [];
for (let i = 0; i + 640 <= raw.length; i += 640) FRAMES.push(raw.subarray(i, i + 640).toString('base64'));

const audio = (data: string, silent = false) => JSON.stringify({ kind: 'AudioData', audioData: { data, timestamp: new Date().toISOString(), silent } });
const METADATA = JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 's', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } });

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends an upgrade on a raw TCP socket and returns everything the server wrote before closing. */
async function rawUpgrade(port: number, path: string, authorization?: string): Promise<string> {
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let out = '';
  sock.on('data', (d: Buffer) => (out += d.toString('latin1')));
  sock.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`,
  );
  await Promise.race([once(sock, 'close'), new Promise((r) => setTimeout(r, 5000))]);
  sock.destroy();
  return out;
}

describe('media WebSocket', () => {
  let jwks: MediaJwks;
  let worker: Worker;
  let port: number;

  beforeAll(async () => {
    jwks = await startMediaJwks();
    // The calls here are bare LiveCalls (no state machine, no turn pipeline): held callbacks are
    // handed to them as plain `callback` events so the media path is observed on its own.
    worker = await createWorker(testConfig({ ...jwks.workerEnv(), VAD_ONSET_FRAMES: '2' }), silentLogger(), {
      defaultMetrics: false,
      dispatchCallback: (call, env) => call.events.emit('callback', { type: env.type, data: env.data }),
    });
    port = (await worker.start()).port;
  });
  afterAll(async () => {
    await worker?.stop();
    await jwks?.close();
  });

  async function newCall(): Promise<{ call: LiveCall; secret: string; path: string }> {
    const callId = randomUUID();
    const secret = randomBytes(18).toString('base64url');
    await worker.state.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
    const call = new LiveCall({ callId, from: 'caller', to: 'us', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    worker.calls.add(call);
    return { call, secret, path: `/ws/media?callId=${callId}&secret=${secret}` };
  }

  async function open(path: string): Promise<{ ws: WebSocket; inbox: string[] }> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${await jwks.token()}` }, perMessageDeflate: false });
    const inbox: string[] = [];
    ws.on('message', (d) => inbox.push(d.toString()));
    ws.on('error', () => undefined);
    await once(ws, 'open');
    return { ws, inbox };
  }

  it('refuses unauthenticated upgrades with HTTP 401 and never opens a socket', async () => {
    const { call, path } = await newCall();
    const other = await newCall();
    const unknownId = randomUUID();
    const cases: [string, string, string | undefined][] = [
      ['no jwt', path, undefined],
      ['not bearer', path, 'Basic abc'],
      ['bad signature', path, `Bearer ${await jwks.token({ foreignKey: true })}`],
      ['wrong audience', path, `Bearer ${await jwks.token({ audience: 'someone-else' })}`],
      ['wrong secret', `/ws/media?callId=${call.callId}&secret=${other.secret}`, `Bearer ${await jwks.token()}`],
      ['no secret', `/ws/media?callId=${call.callId}`, `Bearer ${await jwks.token()}`],
      ['unknown call', `/ws/media?callId=${unknownId}&secret=x`, `Bearer ${await jwks.token()}`],
    ];
    for (const [name, p, auth] of cases) {
      const res = await rawUpgrade(port, p, auth);
      expect(res.split('\r\n')[0], name).toBe('HTTP/1.1 401 Unauthorized');
      expect(res, name).not.toContain('101 Switching');
    }
    // Authenticated but the call is not live anywhere (resolveCall finds nothing).
    worker.calls.remove(call);
    const res = await rawUpgrade(port, path, `Bearer ${await jwks.token()}`);
    expect(res.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    expect(worker.media.server.size).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const reason of ['jwt', 'secret', 'unknown_call']) expect(metrics).toMatch(new RegExp(`voice_media_upgrades_refused_total\\{reason="${reason}"[^}]*\\} [1-9]`));
  });

  it('handles frames, emits VAD events, paces outbound audio, barges in, and resumes after a reconnect', async () => {
    const { call, path } = await newCall();
    await worker.state.router.forward({ callId: call.callId, id: 'e1', type: 'CallConnected', data: {}, time: null });
    const seen: string[] = [];
    for (const name of ['mediaConnected', 'speechStart', 'speechEnd', 'playoutPaused', 'bargeIn', 'playoutDone', 'callback', 'mediaClosed'] as const) {
      call.events.on(name, () => seen.push(name));
    }
    const first = await open(path);
    first.ws.send(METADATA);
    await waitFor(() => seen.includes('mediaConnected'), 'mediaConnected');
    expect(worker.leases.holds(call.callId)).toBe(true);
    await waitFor(() => seen.includes('callback'), 'held callback dispatched');
    expect(call.media).not.toBeNull();

    // Outbound: 200 ms of agent audio arrives as ten 20 ms audioData frames.
    call.media!.speak('hello', new Int16Array(3200).fill(1000));
    call.media!.endUtterance('hello');
    await waitFor(() => seen.includes('playoutDone'), 'playoutDone');
    // playoutDone fires when the last frame is written; let it cross loopback before counting.
    await waitFor(() => first.inbox.length >= 10, 'ten frames received');
    const out = first.inbox.map((m) => JSON.parse(m) as { kind: string; audioData?: { data: string } });
    expect(out.length).toBe(10);
    expect(out.every((m) => m.kind === 'audioData' && Buffer.from(m.audioData!.data, 'base64').length === 640)).toBe(true);

    // Inbound speech while the agent talks: stopAudio comes back at once and the agent pauses; the
    // turn is only interrupted when input confirms it (here a keypad tone during the pause; words in a
    // transcript do the same, and nothing within ~600 ms resumes the reply: test/unit/media-session).
    const turn = call.turnAbort.signal;
    call.media!.speak('long', new Int16Array(16000 * 10));
    for (const f of FRAMES) first.ws.send(audio(f));
    for (let i = 0; i < 30; i++) first.ws.send(audio(Buffer.alloc(640).toString('base64'), true));
    await waitFor(() => seen.includes('speechEnd'), 'speechEnd');
    await waitFor(() => first.inbox.some((m) => m.includes('"stopAudio"')), 'stopAudio');
    expect(seen).toContain('speechStart');
    expect(seen).toContain('playoutPaused');
    expect(turn.aborted).toBe(false);
    first.ws.send(JSON.stringify({ kind: 'DtmfData', dtmfData: { data: '5' } }));
    await waitFor(() => seen.includes('bargeIn'), 'bargeIn confirmed by the tone');
    expect(turn.aborted).toBe(true);
    const session = worker.media.session(call.callId)!;
    await waitFor(() => session.counters.framesIn === FRAMES.length + 30, 'frames handled');

    // Drop and reconnect: same session, counters continue.
    first.ws.terminate();
    await waitFor(() => seen.includes('mediaClosed'), 'mediaClosed');
    expect(call.media).toBeNull();
    const second = await open(path);
    second.ws.send(METADATA);
    for (let i = 0; i < 5; i++) second.ws.send(audio(FRAMES[i]!));
    await waitFor(() => session.counters.framesIn === FRAMES.length + 35, 'frames after reconnect');
    expect(worker.media.session(call.callId)).toBe(session);
    expect(session.counters.connects).toBe(2);
    expect(call.media).toBe(session.playout);

    // The call ends: its socket is closed normally and its media state is released.
    const closed = once(second.ws, 'close');
    call.events.emit('ended', { outcome: 'completed' });
    const [code] = (await closed) as [number];
    expect(code).toBe(1000);
    expect(worker.media.session(call.callId)).toBeUndefined();
    expect(call.media).toBeNull();
  });

  it('takes AudioData in any valid JSON form, and drops payloads that are not clean base64 before the ring', async () => {
    const { call, path } = await newCall();
    const c = await open(path);
    c.ws.send(METADATA);
    const f = FRAMES[3]!;
    // Read from bytes (the exact ACS shape), then through the general parser (pretty-printed, escaped key).
    c.ws.send(audio(f));
    c.ws.send(JSON.stringify({ audioData: { silent: false, data: f }, kind: 'AudioData' }, null, 2));
    c.ws.send(`{"kind":"AudioData","audioData":{"\\u0064ata":"${f}"}}`);
    // Characters outside the alphabet, a missing padding, whitespace inside: bad frames, in either path.
    c.ws.send(audio(`${f.slice(0, 100)}!${f.slice(101)}`));
    c.ws.send(audio(f.replace(/=+$/, '')));
    c.ws.send(JSON.stringify({ kind: 'AudioData', audioData: { data: `${f.slice(0, 8)}\n${f.slice(8)}`, extra: 1 } }));
    c.ws.send(audio(f));
    const session = worker.media.session(call.callId)!;
    await waitFor(() => session.counters.framesIn + session.counters.badFrames >= 7, 'all frames handled');
    expect(session.counters.framesIn).toBe(4);
    expect(session.counters.badFrames).toBe(3);
    const ring = session.ring(null)!;
    expect(ring.written).toBe(4 * 320);
    const last = new Int16Array(320);
    ring.latest(320, last);
    expect(Buffer.from(last.buffer)).toEqual(Buffer.from(f, 'base64'));
    c.ws.close();
  });

  it('closes a garbage-sending socket with 1007 and leaves other calls alone', async () => {
    const good = await newCall();
    const bad = await newCall();
    const g = await open(good.path);
    const b = await open(bad.path);
    g.ws.send(METADATA);
    b.ws.send(METADATA);
    const closed = once(b.ws, 'close');
    for (let i = 0; i < 100 && b.ws.readyState === WebSocket.OPEN; i++) {
      b.ws.send(i % 3 === 0 ? '{"kind":"Nope","nope":{}}' : i % 3 === 1 ? 'garbage{' : Buffer.from([1, 2, 3]));
      g.ws.send(audio(FRAMES[i % FRAMES.length]!));
    }
    const [code] = (await closed) as [number];
    expect(code).toBe(1007);
    for (let i = 0; i < 10; i++) g.ws.send(audio(FRAMES[i]!));
    const session = worker.media.session(good.call.callId)!;
    await waitFor(() => session.counters.framesIn >= 110 || g.ws.readyState !== WebSocket.OPEN, 'good frames');
    expect(g.ws.readyState).toBe(WebSocket.OPEN);
    // A few stray bad messages among good ones do not close a socket.
    for (let i = 0; i < 200; i++) g.ws.send(i % 20 === 0 ? 'oops' : audio(FRAMES[i % FRAMES.length]!));
    await waitFor(() => session.counters.framesIn >= 300, 'mixed frames');
    expect(g.ws.readyState).toBe(WebSocket.OPEN);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/voice_media_protocol_errors_total\{reason="binary",kind="binary"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/voice_media_sockets_closed_invalid_total\{code="1007"[^}]*\} 1/);
    g.ws.close();
  });
});
