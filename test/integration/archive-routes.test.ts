// The local default (no Service Bus, no Cosmos configured: in-process spooled queue + embedded
// Cosmos server), the transcript cold-read route (memory → Redis cache → Cosmos, then re-cached),
// operator auth, and caller profiles read through the Redis cache.
import { isPinHash, verifyPin } from '../../src/domain/caller-pin.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeKeys, testConfig, testRedisUrl } from '../support/test-env.js';
import { silentLogger } from '../../src/logger.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { waitFor } from './archive-rig.js';
import { loadCallerProfile } from '../../src/adapters/cosmos/cached-profile-store.js';

const TOKEN = 'operator-token-0123456789';

describe('archive routes on the local default', () => {
  let worker: Worker;
  let url: string;
  let dir: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-routes-'));
    worker = await createWorker(testConfig({ SPOOL_DIR: dir, API_TOKEN: TOKEN, REDIS_URL: testRedisUrl() }), silentLogger(), { defaultMetrics: false });
    url = (await worker.start()).url;
  });

  afterAll(async () => {
    await worker?.stop('test');
    await removeKeys(testRedisUrl(), worker.config.appName);
    await rm(dir, { recursive: true, force: true });
  });

  const metric = async (name: string, label: string, value: string) =>
    (await worker.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels[label] === value)?.value ?? 0;

  it('serves /metrics only with the operator token when API_TOKEN is set', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('voice_http_errors_total');
  });

  it('reads a transcript from memory while live, from Cosmos after archiving, then from the cache', async () => {
    const callId = randomUUID();
    const call = new LiveCall({ callId, from: '4:+14255550111', to: '4:+14255550112', correlationId: null, startedAt: Date.now() - 2000, log: silentLogger() });
    worker.calls.add(call);
    await worker.state.conversations.appendTurn(callId, { seq: 1, speaker: 'user', text: 'what is my balance', at: Date.now() - 1500 });
    await worker.state.conversations.appendTurn(callId, { seq: 2, speaker: 'assistant', text: 'your balance is', at: Date.now() - 1000, interrupted: true, playedMs: 400 });

    const live = await fetch(`${url}/api/calls/${callId}/transcript`, { headers: auth });
    expect(live.status).toBe(200);
    expect(live.headers.get('x-transcript-source')).toBe('memory');
    const liveBody = (await live.json()) as { turns: unknown[]; bargeIns: { turnSeq: number; playedMs: number }[] };
    expect(liveBody.turns).toHaveLength(2);
    expect(liveBody.bargeIns).toEqual([expect.objectContaining({ turnSeq: 2, playedMs: 400 })]);

    await worker.archive.finalizer(call, 'caller-hangup');
    worker.calls.remove(call);
    await waitFor(async () => (await worker.archive.archive.getTranscript(callId)) !== null, 15_000, 'archived through the in-process queue');

    const cold = await fetch(`${url}/api/calls/${callId}/transcript`, { headers: auth });
    expect(cold.headers.get('x-transcript-source')).toBe('cosmos');
    const coldBody = (await cold.json()) as { turns: { text: string }[]; outcome: string };
    expect(coldBody.turns.map((t) => t.text)).toEqual(['what is my balance', 'your balance is']);
    expect(coldBody.outcome).toBe('caller-hangup');

    const warm = await fetch(`${url}/api/calls/${callId}/transcript`, { headers: auth });
    expect(warm.headers.get('x-transcript-source')).toBe('redis');
    expect(await warm.json()).toEqual(coldBody);
    expect(await metric('voice_transcript_cache_total', 'result', 'hit')).toBe(1);
    expect(await worker.state.sessions.getSummary(callId)).toMatchObject({ archived: true, turnCount: 2, bargeIns: 1 });

    const missing = await fetch(`${url}/api/calls/${randomUUID()}/transcript`, { headers: auth });
    expect(missing.status).toBe(404);
  });

  it('also answers to the ACS callConnectionId, live and archived; the call id stays the key', async () => {
    const callId = randomUUID();
    const connection = `conn-${randomUUID()}`;
    const call = new LiveCall({ callId, from: '4:+14255550121', to: '4:+14255550122', correlationId: null, startedAt: Date.now() - 2000, log: silentLogger() });
    worker.calls.add(call);
    worker.calls.bindConnection(call, connection);
    await worker.state.conversations.appendTurn(callId, { seq: 1, speaker: 'user', text: 'hello', at: Date.now() - 1500 });

    const live = await fetch(`${url}/api/calls/${connection}/transcript`, { headers: auth });
    expect(live.status).toBe(200);
    expect(live.headers.get('x-transcript-source')).toBe('memory');
    expect(((await live.json()) as { id: string }).id).toBe(callId);

    await worker.archive.finalizer(call, 'caller-hangup');
    worker.calls.remove(call);
    await waitFor(async () => (await worker.archive.archive.getTranscript(callId)) !== null, 15_000, 'archived');

    const cold = await fetch(`${url}/api/calls/${connection}/transcript`, { headers: auth });
    expect(cold.status).toBe(200);
    expect(cold.headers.get('x-transcript-source')).toBe('cosmos');
    const body = (await cold.json()) as { callId: string; callConnectionId: string; turns: { text: string }[] };
    expect(body).toMatchObject({ callId, callConnectionId: connection });
    expect(body.turns.map((t) => t.text)).toEqual(['hello']);
  });

  it('refuses the operator routes without the bearer token', async () => {
    const id = randomUUID();
    expect((await fetch(`${url}/api/calls/${id}/transcript`)).status).toBe(401);
    expect((await fetch(`${url}/api/calls/${id}/transcript`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${url}/api/profiles/abc`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
  });

  it('reads caller profiles through the cache and invalidates it on write', async () => {
    const id = '+14255550123';
    const put = async (body: unknown) =>
      fetch(`${url}/api/profiles/${encodeURIComponent(id)}`, { method: 'PUT', body: JSON.stringify(body), headers: { ...auth, 'content-type': 'application/json' } });
    expect((await put({ name: 'Ada', accountBalance: 10 })).status).toBe(200);
    expect(await worker.archive.profiles.get(id)).toMatchObject({ id, name: 'Ada', accountBalance: 10 });
    expect(await worker.archive.profiles.get(id)).toMatchObject({ name: 'Ada' });
    expect(await metric('voice_profile_cache_lookups_total', 'result', 'hit')).toBe(1);
    expect(await metric('voice_profile_cache_lookups_total', 'result', 'miss')).toBe(1);

    expect((await put({ name: 'Ada L.', accountBalance: 12 })).status).toBe(200);
    const res = await fetch(`${url}/api/profiles/${encodeURIComponent(id)}`, { headers: auth });
    expect(await res.json()).toMatchObject({ name: 'Ada L.', accountBalance: 12 });
    expect(await metric('voice_profile_cache_lookups_total', 'result', 'miss')).toBe(2);

    // The PIN is stored only as a salted hash and never returned (neither it nor the hash).
    const putPin = await put({ name: 'Ada L.', accountBalance: 12, pin: '4321' });
    expect(putPin.status).toBe(200);
    const putBody = await putPin.text();
    expect(putBody).not.toContain('4321');
    expect(JSON.parse(putBody)).toMatchObject({ hasPin: true });
    const got = await (await fetch(`${url}/api/profiles/${encodeURIComponent(id)}`, { headers: auth })).text();
    expect(got).not.toContain('4321');
    expect(got).not.toContain('scrypt$');
    expect(JSON.parse(got)).toMatchObject({ name: 'Ada L.', hasPin: true });
    const stored = await worker.archive.profiles.get(id);
    expect(stored?.pin).toBeUndefined();
    expect(isPinHash(stored?.pinHash)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain('4321');
    expect((await put({ name: 'Ada L.', pin: '12ab' })).status).toBe(400);
    const callId = randomUUID();
    await worker.state.sessions.putAuthState(callId, { secret: 's', callerVerified: false, failedAttempts: 0 });
    const loaded = await loadCallerProfile(
      { profiles: worker.archive.profiles, conversations: worker.state.conversations, sessions: worker.state.sessions },
      callId,
      id,
    );
    expect(loaded?.pin).toBeUndefined();
    const ctx = (await worker.state.conversations.getState(callId)).context;
    // The PIN never enters the context; only its salted hash, in the auth state.
    expect(ctx.profile).toEqual({ id, name: 'Ada L.', accountBalance: 12, hasPin: true });
    const authState = await worker.state.sessions.getAuthState(callId);
    expect(await verifyPin('4321#', authState?.pinHash ?? '')).toBe(true);
    expect(await verifyPin('1234#', authState?.pinHash ?? '')).toBe(false);
    expect(JSON.stringify(ctx)).not.toContain('4321');

    expect((await put({ id: 'someone-else' })).status).toBe(400);
    expect((await put([1, 2])).status).toBe(400);
  });
});

describe('operator routes without API_TOKEN', () => {
  it('serve loopback clients only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archive-routes-'));
    const worker = await createWorker(testConfig({ SPOOL_DIR: dir }), silentLogger(), { defaultMetrics: false });
    try {
      const { url } = await worker.start();
      const res = await fetch(`${url}/api/calls/${randomUUID()}/transcript`);
      expect(res.status).toBe(404);
      const remote = await worker.app.inject({ method: 'GET', url: `/api/calls/${randomUUID()}/transcript`, remoteAddress: '203.0.113.7' });
      expect(remote.statusCode).toBe(403);
      // Metrics follow the same rule: loopback scrapes work, the ingress gets 403.
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      const remoteMetrics = await worker.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7' });
      expect(remoteMetrics.statusCode).toBe(403);
      expect((await worker.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    } finally {
      await worker.stop('test');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
