// The operator console on the in-process store: sign-in (token hash only, sliding TTL, cookie flags,
// Origin check), session-guarded page/views/stream, ETag + 304 from the cache-aside views, the feed's
// masking, and the SSE hub's bounded buffer and Last-Event-ID ring.
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';
import { buildServer } from '../../src/server/app.js';
import { Lifecycle } from '../../src/server/lifecycle.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { hashToken } from '../../src/server/console/console-auth.js';
import { SseHub } from '../../src/server/console/sse-hub.js';
import { maskCaller, maskTurnText } from '../../src/domain/console/console-events.js';
import { wireConsole, type ConsoleWiring } from '../../src/wiring/console-wiring.js';

const TOKEN = 'operator-secret-for-tests';

function rig(env: Record<string, string> = {}) {
  let now = Date.parse('2026-12-03T10:00:00Z');
  const clock = { now: () => now, monotonic: () => now };
  const config = loadConfig({ APP_NAME: 'console-unit', APP_ENV: 'test', STATE_BACKEND: 'memory', API_TOKEN: TOKEN, LOG_LEVEL: 'silent', ...env });
  const log = silentLogger();
  const registry = createRegistry({ defaultMetrics: false, labels: {} });
  const lifecycle = new Lifecycle({ drainTimeoutMs: 100 }, log);
  const routes: FastifyPluginAsync[] = [];
  const conversations = new MemoryConversationStore({ clock }, { ttl: config.ttl, historyMaxTurns: 50 });
  const ui: ConsoleWiring = wireConsole({
    config,
    log,
    registry,
    lifecycle,
    routes,
    redis: null,
    conversations,
    clock,
    health: () => ({ calls: 0, redis: 'memory', outboxDepth: 0, archiveSpooled: 0 }),
  });
  const app = buildServer({ log, registry, lifecycle, readiness: [], routes, upgrades: new Map() }, { bodyLimitBytes: 64 * 1024, readinessTimeoutMs: 100, apiToken: TOKEN });
  return { app, ui, conversations, advance: (ms: number) => (now += ms), clock };
}

const ORIGIN = { host: 'console.example.com', origin: 'https://console.example.com' };

async function signIn(app: FastifyInstance, headers: Record<string, string> = ORIGIN): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/console/login', headers, payload: { token: TOKEN } });
  expect(res.statusCode).toBe(200);
  const cookie = String(res.headers['set-cookie']);
  return /vw_console=([^;]+)/.exec(cookie)?.[1] ?? '';
}

describe('console sign-in', () => {
  let app: FastifyInstance | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  it('exchanges API_TOKEN for a random session token; the store holds only its SHA-256; cookie HttpOnly, Secure, SameSite=Strict', async () => {
    const r = rig();
    app = r.app;
    expect((await app.inject({ method: 'POST', url: '/console/login', headers: ORIGIN, payload: { token: 'wrong' } })).statusCode).toBe(401);
    const res = await app.inject({ method: 'POST', url: '/console/login', headers: ORIGIN, payload: { token: TOKEN } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\/console/);
    const token = /vw_console=([^;]+)/.exec(cookie)?.[1] ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).not.toContain(TOKEN);
    expect(await r.ui.store.touchSession(hashToken(token), 3600)).toBe('operator');
    expect(await r.ui.store.touchSession(token, 3600)).toBeNull();
    // A second sign-in gets a different token.
    expect(await signIn(app)).not.toBe(token);
  });

  it('omits Secure only for plain http on a loopback host', async () => {
    const r = rig();
    app = r.app;
    const res = await app.inject({ method: 'POST', url: '/console/login', headers: { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }, payload: { token: TOKEN } });
    expect(String(res.headers['set-cookie'])).not.toMatch(/Secure/);
    const proxied = await app.inject({ method: 'POST', url: '/console/login', headers: { host: 'localhost', origin: 'https://localhost', 'x-forwarded-proto': 'https' }, payload: { token: TOKEN } });
    expect(String(proxied.headers['set-cookie'])).toMatch(/Secure/);
  });

  it('refuses cross-site and origin-less state changes (CSRF)', async () => {
    const r = rig();
    app = r.app;
    const evil = await app.inject({ method: 'POST', url: '/console/login', headers: { host: ORIGIN.host, origin: 'https://evil.example' }, payload: { token: TOKEN } });
    expect(evil.statusCode).toBe(403);
    const none = await app.inject({ method: 'POST', url: '/console/login', headers: { host: ORIGIN.host }, payload: { token: TOKEN } });
    expect(none.statusCode).toBe(403);
    const sameSite = await app.inject({ method: 'POST', url: '/console/login', headers: { host: ORIGIN.host, 'sec-fetch-site': 'same-origin' }, payload: { token: TOKEN } });
    expect(sameSite.statusCode).toBe(200);
    const token = await signIn(app);
    const logout = await app.inject({ method: 'POST', url: '/console/logout', headers: { host: ORIGIN.host, origin: 'https://evil.example', cookie: `vw_console=${token}` } });
    expect(logout.statusCode).toBe(403);
    expect(await r.ui.store.touchSession(hashToken(token), 3600)).toBe('operator');
  });

  it('page, views and stream refuse without a session; logout deletes it', async () => {
    const r = rig();
    app = r.app;
    const page = await app.inject({ url: '/console', headers: ORIGIN });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/console/login');
    for (const url of ['/console/api/calls', '/console/api/summary', '/console/api/campaigns', '/console/api/calls/c1/transcript', '/console/stream']) {
      expect((await app.inject({ url, headers: ORIGIN })).statusCode, url).toBe(401);
      expect((await app.inject({ url, headers: { ...ORIGIN, cookie: 'vw_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })).statusCode, url).toBe(401);
    }
    const token = await signIn(app);
    const cookie = `vw_console=${token}`;
    const ok = await app.inject({ url: '/console', headers: { ...ORIGIN, cookie } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(ok.body).toContain('Live calls');
    const out = await app.inject({ method: 'POST', url: '/console/logout', headers: { ...ORIGIN, cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    expect(await r.ui.store.touchSession(hashToken(token), 3600)).toBeNull();
    expect((await app.inject({ url: '/console/api/calls', headers: { ...ORIGIN, cookie } })).statusCode).toBe(401);
  });

  it('keeps a session alive while used (sliding 1 h TTL) and ends it after an idle hour', async () => {
    const r = rig();
    app = r.app;
    const cookie = `vw_console=${await signIn(app)}`;
    const get = () => app!.inject({ url: '/console/api/session', headers: { ...ORIGIN, cookie } });
    r.advance(50 * 60_000);
    expect((await get()).statusCode).toBe(200);
    r.advance(50 * 60_000);
    expect((await get()).statusCode).toBe(200);
    r.advance(61 * 60_000);
    expect((await get()).statusCode).toBe(401);
  });
});

describe('console views', () => {
  let app: FastifyInstance | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  it('answer with an ETag and 304 to If-None-Match; hits and misses are counted per cache; a call event refreshes active calls', async () => {
    const r = rig();
    app = r.app;
    const cookie = `vw_console=${await signIn(app)}`;
    const h = { ...ORIGIN, cookie };
    const first = await app.inject({ url: '/console/api/calls', headers: h });
    expect(first.statusCode).toBe(200);
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await app.inject({ url: '/console/api/calls', headers: { ...h, 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(r.ui.cache.stats()['active-calls']).toMatchObject({ hit: 1, miss: 1 });

    const call = new LiveCall({ callId: 'call-1', from: '4:+***12', to: '4:+***34', correlationId: null, startedAt: r.clock.now(), log: silentLogger() });
    r.ui.feed.track(call);
    // The event reloads the cached view (debounced): the next reads are hits with the new call.
    let changed = await app.inject({ url: '/console/api/calls', headers: { ...h, 'if-none-match': etag } });
    for (let i = 0; i < 50 && changed.statusCode === 304; i++) {
      await new Promise((res) => setTimeout(res, 20));
      changed = await app.inject({ url: '/console/api/calls', headers: { ...h, 'if-none-match': etag } });
    }
    expect(changed.statusCode).toBe(200);
    expect(r.ui.cache.stats()['active-calls']?.miss).toBe(1);
    const view = JSON.parse(changed.body) as { calls: { callId: string; caller: string }[] };
    expect(view.calls.map((c) => c.callId)).toEqual(['call-1']);
    expect(view.calls[0]?.caller).toBe('+•••12');
    expect(changed.body).not.toContain('4:+');

    const summary = JSON.parse((await app.inject({ url: '/console/api/summary', headers: h })).body) as { calls: number; perHour: number[] };
    expect(summary.calls).toBe(0);
    expect(summary.perHour).toHaveLength(24);
    expect(JSON.parse((await app.inject({ url: '/console/api/campaigns', headers: h })).body)).toEqual({ campaigns: [] });
  });

  it('a live transcript masks keypad input and spoken digit runs', async () => {
    const r = rig();
    app = r.app;
    const cookie = `vw_console=${await signIn(app)}`;
    await r.conversations.appendTurn('call-2', { seq: 1, speaker: 'assistant', text: 'Hello, how can I help?', at: 1 });
    await r.conversations.appendTurn('call-2', { seq: 2, speaker: 'user', text: 'my pin is 4 8 1 5 and my number 0612345678', at: 2 });
    await r.conversations.appendTurn('call-2', { seq: 3, speaker: 'user', text: '[dtmf ****]', at: 3, kind: 'dtmf' });
    const res = await app.inject({ url: '/console/api/calls/call-2/transcript', headers: { ...ORIGIN, cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toMatch(/\d{3}|4 8 1 5/);
    const t = JSON.parse(res.body) as { turns: { text: string }[] };
    expect(t.turns.map((x) => x.text)).toEqual(['Hello, how can I help?', 'my pin is •••• and my number ••••••••••', '[dtmf ****]']);
    expect(res.headers.etag).toBeDefined();
    expect((await app.inject({ url: '/console/api/calls/call-2/transcript', headers: { ...ORIGIN, cookie, 'if-none-match': String(res.headers.etag) } })).statusCode).toBe(304);
  });

  it('streams call events over SSE to a signed-in browser (turns observed through the conversation store)', async () => {
    const r = rig();
    app = r.app;
    await app.listen({ port: 0, host: '127.0.0.1' });
    await r.ui.start();
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const cookie = `vw_console=${await signIn(app, { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })}`;
    let text = '';
    const req = request({ host: '127.0.0.1', port, path: '/console/stream', headers: { cookie } });
    const opened = new Promise<number>((resolve) =>
      req.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        resolve(res.statusCode ?? 0);
      }),
    );
    req.end();
    expect(await opened).toBe(200);
    const call = new LiveCall({ callId: 'call-3', from: '8:acs:resource_0000-1111-2222', to: 'x', correlationId: null, startedAt: r.clock.now(), log: silentLogger() });
    r.ui.feed.track(call);
    const store = r.ui.feed.observe(r.conversations);
    // The caller's turn goes through the critical-path append (append + read), the agent's through appendTurn.
    await store.appendTurnAndRead('call-3', { seq: 1, speaker: 'user', text: 'card 4111 1111', at: 5 });
    await store.appendTurn('call-3', { seq: 2, speaker: 'assistant', text: 'Thanks.', at: 6 });
    call.events.emit('ended', { outcome: 'caller-hangup' });
    const deadline = Date.now() + 2000;
    while (!text.includes('"ended"') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    req.destroy();
    const events = text
      .split('\n\n')
      .map((f) => /^data: (.*)$/m.exec(f)?.[1])
      .filter((d): d is string => d !== undefined)
      .map((d) => JSON.parse(d) as { type: string; at: number });
    expect(events.map((e) => e.type)).toEqual(['call', 'turn', 'turn', 'ended']);
    expect(text).toMatch(/^id: [A-Za-z0-9_.-]+$/m);
    expect(text).not.toMatch(/4111|0000-1111|resource_/);
    expect(text).toContain('acs:…2222');
  });
});

function fakeRes(initialBuffered = 0) {
  const written: string[] = [];
  let destroyed = false;
  const res = {
    writableLength: initialBuffered,
    writeHead: () => res,
    write: (s: string) => {
      written.push(s);
      return true;
    },
    end: () => undefined,
    destroy: () => {
      destroyed = true;
    },
    on: () => res,
  };
  return { res: res as unknown as ServerResponse & { writableLength: number }, written, destroyed: () => destroyed };
}

describe('console SSE hub', () => {
  it('drops a client whose unsent bytes pass the bound; the others get every event', () => {
    const drops: string[] = [];
    const hub = new SseHub({ ringSize: 10, maxBufferedBytes: 1000, heartbeatMs: 60_000 }, { dropped: (r) => drops.push(r) });
    const fast = fakeRes();
    const slow = fakeRes();
    hub.open(fast.res, 's1', null, () => undefined);
    hub.open(slow.res, 's2', null, () => undefined);
    hub.deliver('a.1', '{"type":"call"}');
    (slow.res as { writableLength: number }).writableLength = 990;
    hub.deliver('a.2', '{"type":"turn"}');
    hub.deliver('a.3', '{"type":"turn"}');
    expect(slow.destroyed()).toBe(true);
    expect(drops).toEqual(['slow']);
    expect(hub.size).toBe(1);
    expect(fast.written.join('')).toContain('id: a.3');
    hub.closeAll();
  });

  it('resumes after Last-Event-ID from the ring; an id no longer held gets a reset', () => {
    const hub = new SseHub({ ringSize: 3, maxBufferedBytes: 1 << 20, heartbeatMs: 60_000 });
    for (let i = 1; i <= 5; i++) hub.deliver(`a.${i}`, `{"n":${i}}`);
    const resumed = fakeRes();
    hub.open(resumed.res, 's', 'a.3', () => undefined);
    const out = resumed.written.join('');
    expect(out).toContain('id: a.4');
    expect(out).toContain('id: a.5');
    expect(out).not.toContain('id: a.3\n');
    const old = fakeRes();
    hub.open(old.res, 's', 'a.1', () => undefined);
    expect(old.written.join('')).toContain('event: reset');
    hub.closeAll();
  });
});

describe('console masking', () => {
  it('never shows a phone number or an ACS id in full', () => {
    expect(maskCaller('4:+***12')).toBe('+•••12');
    expect(maskCaller('4:+14255550123')).toBe('+•••23');
    expect(maskCaller('+14255550123')).toBe('+•••23');
    expect(maskCaller('8:acs:res_abcd-1234-ef56')).toBe('acs:…ef56');
    expect(maskTurnText('call me on 425-555-0123 please')).toBe('call me on •••••••••• please');
    expect(maskTurnText('I have 2 dogs')).toBe('I have 2 dogs');
  });
});

describe('console feed', () => {
  it('reports phase changes and who speaks by sampling, barge-ins and the end; a call handed over leaves quietly', async () => {
    const { ConsoleFeed } = await import('../../src/domain/console/console-feed.js');
    const events: { type: string; [k: string]: unknown }[] = [];
    const changes: [string, boolean, string | null][] = [];
    const feed = new ConsoleFeed(
      { publish: (e) => events.push(e as never), liveChanged: (id, view, ended) => changes.push([id, view !== null, ended?.outcome ?? null]), now: () => 1000 },
      { workerId: 'w-1' },
    );
    const call = new LiveCall({ callId: 'f1', from: '4:+***77', to: 'x', correlationId: null, startedAt: 0, log: silentLogger() });
    feed.track(call);
    call.phase = 'streaming';
    feed.tick();
    call.events.emit('speechStart', { at: 1, participant: null });
    feed.tick();
    call.events.emit('speechEnd', { at: 2, participant: null });
    call.media = { speaking: true } as never;
    feed.tick();
    call.events.emit('bargeIn', { at: 3, utteranceId: 'u1', playedMs: 812.4, cause: 'vad' });
    call.events.emit('ended', { outcome: 'caller-hangup' });
    expect(events.map((e) => (e.type === 'speaking' ? `speaking:${String(e.who)}` : e.type))).toEqual(['call', 'call', 'speaking:caller', 'speaking:null', 'speaking:agent', 'barge-in', 'ended']);
    expect(events[1]).toMatchObject({ call: { state: 'streaming', caller: '+•••77', owner: 'w-1' } });
    expect(events.at(-1)).toMatchObject({ type: 'ended', outcome: 'caller-hangup', durationMs: 1000 });
    expect(changes.at(-1)).toEqual(['f1', false, 'caller-hangup']);
    expect(feed.size).toBe(0);

    const moved = new LiveCall({ callId: 'f2', from: '4:+***78', to: 'x', correlationId: null, startedAt: 0, log: silentLogger() });
    feed.track(moved);
    const before = changes.length;
    moved.events.emit('released', { reason: 'lease lost' });
    expect(changes.length).toBe(before);
    expect(feed.views()).toEqual([]);
  });

  it('demo --console names the console on the loopback address', async () => {
    const { consoleUrl } = await import('../../src/demo/demo-command.js');
    expect(consoleUrl('http://0.0.0.0:8080')).toBe('http://127.0.0.1:8080/console');
    expect(consoleUrl('http://127.0.0.1:42059')).toBe('http://127.0.0.1:42059/console');
  });
});
