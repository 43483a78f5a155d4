// Issue 18 item 5 (minimal): the worker's AcsCallControl.createCall through the real SDK against the
// simulator's POST /calling/callConnections (the SDK's createCallOperationSpec: 201 with the call
// connection's properties), CallConnected on the callback, hang-up → CallDisconnected; a PSTN target
// without a caller id is refused (400) as ACS refuses it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcsCallControl } from '../../src/adapters/acs/call-control.js';
import { isVoiceError } from '../../src/domain/errors.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createCallAutomationClient } from '../../src/wiring/clients.js';
import { eventually } from '../support/e2e.js';
import { testConfig } from '../support/test-env.js';

describe('createCall against the simulator (real SDK)', () => {
  let sim: Simulator;
  let hook: Server;
  let hookUrl: string;
  const events: { type: string; callConnectionId: string; operationContext?: string; auth: boolean }[] = [];
  let control: AcsCallControl;

  beforeAll(async () => {
    sim = await startSimulator();
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        for (const e of JSON.parse(Buffer.concat(chunks).toString() || '[]') as { type: string; data: { callConnectionId: string; operationContext?: string } }[]) {
          events.push({ type: e.type.replace('Microsoft.Communication.', ''), callConnectionId: e.data.callConnectionId, ...(e.data.operationContext ? { operationContext: e.data.operationContext } : {}), auth: /^Bearer /.test(req.headers.authorization ?? '') });
        }
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    const config = testConfig(sim.workerEnv());
    const client = createCallAutomationClient(config.acs);
    if (!client) throw new Error('no ACS client');
    control = new AcsCallControl(client, { requestTimeoutMs: 5000 });
  });

  afterAll(async () => {
    await sim?.close();
    await new Promise((r) => hook?.close(r));
  });

  it('places the call, posts CallConnected with the operation context, and CallDisconnected after the hang-up', async () => {
    const res = await control.createCall({
      target: '+14255550123',
      callerId: '+18005550100',
      callbackUrl: `${hookUrl}/api/callbacks?callId=out-1`,
      mediaTransportUrl: 'ws://127.0.0.1:1/ws/media?callId=out-1',
      audioFormat: 'pcm16KMono',
      operationContext: 'campaign-a:out-1',
    });
    expect(res.callConnectionId).toMatch(/^[0-9a-f-]{36}$/);
    const call = sim.calls.find((c) => c.callConnectionId === res.callConnectionId);
    expect(call?.scenario).toBe('outbound');
    expect(call?.callee).toMatchObject({ phoneNumber: { value: '+14255550123' } });
    expect(call?.caller).toMatchObject({ phoneNumber: { value: '+18005550100' } });
    expect(call?.answer?.mediaStreamingOptions).toMatchObject({ transportUrl: 'ws://127.0.0.1:1/ws/media?callId=out-1', enableBidirectional: true });
    await eventually(() => (events.some((e) => e.type === 'CallConnected' && e.callConnectionId === res.callConnectionId) ? true : undefined), 3000);
    expect(events.find((e) => e.type === 'CallConnected')).toMatchObject({ operationContext: 'campaign-a:out-1', auth: true });
    await control.hangUp(res.callConnectionId, 'campaign-a:out-1');
    await eventually(() => (events.some((e) => e.type === 'CallDisconnected' && e.callConnectionId === res.callConnectionId) ? true : undefined), 3000);
  });

  it('refuses a PSTN target without a valid caller id (400), as a typed call-control error', async () => {
    const err = await control
      .createCall({ target: '+14255550123', callerId: 'not-a-number', callbackUrl: `${hookUrl}/cb`, mediaTransportUrl: 'ws://127.0.0.1:1/ws', audioFormat: 'pcm16KMono', operationContext: 'x' })
      .catch((e: unknown) => e);
    expect(isVoiceError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/caller ?id|sourceCallerIdNumber|400/i);
  });
});
