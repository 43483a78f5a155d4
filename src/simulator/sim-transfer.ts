// The transfer operation as ACS plays it: POST /calling/callConnections/{id}:transferToParticipant
// (the SDK 1.6.0 generated client's transferToParticipantOperationSpec: 202 with TransferCallResponse
// { operationContext }; body TransferToParticipantRequest { targetParticipant, operationContext,
// transferee?, operationCallbackUri?, customCallingContext?, sourceCallerIdNumber? }). Then a callback:
// CallTransferAccepted (transferee, transferTarget) followed by CallDisconnected of the app's leg (a
// transferred 1:1 call leaves the application's control, "Transfer a call",
// learn.microsoft.com/azure/communication-services/how-tos/call-automation/actions-for-call-control),
// or, in the fail variant, CallTransferFailed with resultInformation, and the call goes on.
import { acsError, type RestResult } from './rest-server.js';
import type { SimCall } from './sim-call.js';

export type TransferAnswer = 'accept' | 'fail';

export interface SimTransferRecord {
  /** ms since the call was offered. */
  readonly at: number;
  readonly targetRawId: string;
  readonly transfereeRawId: string | undefined;
  readonly operationContext: string | undefined;
  readonly answer: TransferAnswer;
}

/** How long the target takes to pick up (accept) or the transfer takes to fail. */
const ANSWER_AFTER_MS = 150;
/** CallDisconnected of our leg after CallTransferAccepted. */
const LEG_GONE_AFTER_MS = 50;
const ACCEPTED = { code: 200, subCode: 0, message: 'The transfer completed successfully.' };
/** The fail variant's result (a target that did not answer); the code pair is the simulator's, not a documented one. */
export const TRANSFER_FAILED = { code: 500, subCode: 8580, message: 'Action failed, the transfer target did not answer.' };

type Result = { code: number; subCode: number; message: string };
type Send = (type: string, data: Record<string, unknown>, operationContext: string | undefined, result: Result) => Promise<void>;

function identifierOk(v: unknown): v is { rawId?: string; kind?: string } & Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.rawId === 'string' && o.rawId.length > 0;
}

/** The REST side: validates the body as the service would and answers 202 (the callbacks come later). */
export function transferResponse(body: Record<string, unknown>): RestResult {
  if (!identifierOk(body.targetParticipant)) return acsError(400, 'BadRequest', 'targetParticipant with a rawId is required');
  if (body.transferee !== undefined && !identifierOk(body.transferee)) return acsError(400, 'BadRequest', 'transferee must be a communication identifier');
  return { status: 202, body: { operationContext: typeof body.operationContext === 'string' ? body.operationContext : undefined } };
}

/** One call's transfers: how the simulated ACS answers them, what was requested, who waits for one. */
export class TransferDesk {
  answer: TransferAnswer = 'accept';
  readonly #waiters: ((at: number) => void)[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(private readonly call: SimCall) {}

  /** After the 202: the callbacks. `endLeg` ends our leg (CallDisconnected) once the transfer is accepted. */
  requested(body: Record<string, unknown>, send: Send, endLeg: () => void): void {
    const call = this.call;
    const target = body.targetParticipant as Record<string, unknown>;
    const transferee = body.transferee as Record<string, unknown> | undefined;
    const ctx = typeof body.operationContext === 'string' ? body.operationContext : undefined;
    const rec: SimTransferRecord = {
      at: performance.now() - call.offeredAt,
      targetRawId: String(target.rawId),
      transfereeRawId: transferee ? String(transferee.rawId) : undefined,
      operationContext: ctx,
      answer: this.answer,
    };
    (call.transferRequests ??= []).push(rec);
    for (const w of this.#waiters.splice(0)) w(performance.now());
    this.#later(ANSWER_AFTER_MS, () => {
      if (call.state === 'disconnected') return;
      if (rec.answer === 'fail') return void send('CallTransferFailed', {}, ctx, TRANSFER_FAILED);
      void send('CallTransferAccepted', { transferee: transferee ?? call.caller, transferTarget: target }, ctx, ACCEPTED);
      this.#later(LEG_GONE_AFTER_MS, endLeg);
    });
  }

  /** Resolves with the time (performance.now()) of the next transfer request; undefined after ms. */
  wait(ms: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(undefined);
      }, ms);
      const done = (at: number) => {
        clearTimeout(t);
        resolve(at);
      };
      this.#waiters.push(done);
    });
  }

  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
}
