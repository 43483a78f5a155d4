// Call Automation callbacks: CloudEvents 1.0 arrays POSTed to the callbackUri the worker gave in its
// answer, each with an ACS JWT (see identity.ts on reuse), delivered in order per call, retried on failure, and (at the
// configured rate) delivered a second time with the same event id.
import { randomUUID } from 'node:crypto';
import { deliver, type DeliveryOptions, DEFAULT_DELIVERY } from './delivery.js';
import type { SimIdentity } from './identity.js';
import type { SimCall } from './sim-call.js';

export interface ResultInformation {
  readonly code: number;
  readonly subCode: number;
  readonly message: string;
}

export const OK_RESULT: ResultInformation = { code: 200, subCode: 0, message: 'Action completed successfully.' };

export interface CallbackSenderOptions {
  readonly identity: SimIdentity;
  readonly duplicateRate: () => number;
  readonly delivery?: DeliveryOptions;
}

export class CallbackSender {
  private readonly chains = new WeakMap<SimCall, Promise<void>>();
  /** Deliveries still in flight (close() waits for them). */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: CallbackSenderOptions) {}

  /** Queues one event for the call; events of a call are delivered in the order they are queued. */
  send(call: SimCall, type: string, data: Record<string, unknown> = {}, operationContext?: string, result: ResultInformation = OK_RESULT): Promise<void> {
    const prev = this.chains.get(call) ?? Promise.resolve();
    const next = prev.then(() => this.deliverOne(call, type, data, operationContext, result));
    this.chains.set(call, next);
    this.pending.add(next);
    void next.finally(() => this.pending.delete(next));
    return next;
  }

  /** Resolves when every queued callback of the call has been delivered (or given up). */
  drained(call: SimCall): Promise<void> {
    return this.chains.get(call) ?? Promise.resolve();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async deliverOne(call: SimCall, type: string, data: Record<string, unknown>, operationContext: string | undefined, result: ResultInformation): Promise<void> {
    const answer = call.answer;
    const ccid = call.callConnectionId;
    if (!answer || !ccid) return;
    const id = randomUUID();
    const event = {
      id,
      source: `calling/callConnections/${ccid}`,
      type: `Microsoft.Communication.${type}`,
      data: {
        ...data,
        callConnectionId: ccid,
        serverCallId: call.serverCallId,
        correlationId: call.correlationId,
        ...(operationContext !== undefined ? { operationContext } : {}),
        resultInformation: result,
      },
      time: new Date().toISOString(),
      specversion: '1.0',
      datacontenttype: 'application/json',
      subject: `calling/callConnections/${ccid}`,
    };
    const body = JSON.stringify([event]);
    const headers = async () => ({ authorization: `Bearer ${await this.opts.identity.token()}` });
    const rec = { type, id, status: 0, attempts: 0, duplicated: false };
    call.callbacks.push(rec);
    const r = await deliver(answer.callbackUri, body, headers, this.opts.delivery ?? DEFAULT_DELIVERY);
    rec.status = r.status;
    rec.attempts = r.attempts;
    if (r.status >= 200 && r.status < 300 && Math.random() < this.opts.duplicateRate()) {
      rec.duplicated = true;
      const again = await deliver(answer.callbackUri, body, headers, { ...(this.opts.delivery ?? DEFAULT_DELIVERY), maxAttempts: 1 });
      if (again.status < 200 || again.status >= 300) call.violations.push(`duplicate ${type} callback answered ${again.status}`);
    }
  }
}
