// Places one campaign call (issue 18 item 5) the way call-answerer.ts answers one: a new call id and
// per-call secret, auth state and session snapshot stored, the LiveCall put under the same
// supervisor (timers, callbacks, finalization, archive), then createCall with the same callback and
// media URLs — so the media socket, the conversation loop and the archive are those of an inbound
// call. The slot reserved by the scheduler is confirmed with the call id once ACS accepted the
// request (201); the call's removal from the registry frees it (admission-wiring.ts).
//
// Outcome: CallConnected → the attempt connected (completed once finalized); CreateCallFailed →
// no-answer (480), busy (486) or failed (anything else), per the Call Automation troubleshooting
// codes (simulator/outbound-calls.ts cites them); the supervisor finalizes on CreateCallFailed.
import { randomUUID } from 'node:crypto';
import type { AttemptOutcome } from '../domain/campaign.js';
import type { CampaignDialer, PlaceRequest } from '../domain/campaign-scheduler.js';
import type { CallSupervisor } from '../domain/call-lifecycle.js';
import { LiveCall, type CallRegistry } from '../domain/live-call.js';
import type { CallControl, SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { callUrls, newCallSecret, snapshotOf } from './call-answerer.js';
import { maskRawId } from './event-grid.js';

export interface OutboundDialerDeps {
  readonly sessions: SessionStore;
  readonly control: CallControl;
  readonly supervisor: CallSupervisor;
  readonly registry: CallRegistry;
  /** ACS accepted the call placed under `claimId` (admission confirms its slot with the call id). */
  readonly onPlaced?: (claimId: string, callId: string) => void;
  readonly now: () => number;
  readonly log: Logger;
}

export interface OutboundDialerConfig {
  readonly publicBaseUrl: string;
  readonly workerId: string;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
  /** The ACS number shown to the callee (sourceCallerIdNumber). */
  readonly callerId: string;
}

export function outcomeOfCreateCallFailed(data: Record<string, unknown>): AttemptOutcome {
  const code = (data['resultInformation'] as { code?: unknown } | undefined)?.code;
  return code === 480 || code === 408 ? 'no-answer' : code === 486 ? 'busy' : 'failed';
}

export function createOutboundDialer(deps: OutboundDialerDeps, cfg: OutboundDialerConfig): CampaignDialer {
  return {
    async place(req: PlaceRequest, onConnected: (callId: string) => void) {
      if (!deps.control.createCall) throw new Error('call control cannot place calls');
      const callId = randomUUID();
      const secret = newCallSecret();
      const from = maskRawId(`4:${cfg.callerId}`, 'phoneNumber');
      const to = maskRawId(`4:${req.target}`, 'phoneNumber');
      const log = deps.log.child({ callId, campaignId: req.campaignId, target: req.targetIndex, attempt: req.attempt });
      const call = new LiveCall({ callId, from, to, correlationId: null, startedAt: deps.now(), log, callerRawId: `4:${req.target}` });
      // Archive job and per-tenant analytics count it as the campaign's tenant's outbound call.
      call.direction = 'outbound';
      call.tenantId = req.tenant;
      const ctl = deps.supervisor.attach(call);
      let connected = false;
      let failedWith: AttemptOutcome | null = null;
      const ended = new Promise<void>((resolve) => {
        call.events.on('connected', () => {
          if (connected) return;
          connected = true;
          onConnected(callId);
        });
        call.events.on('callback', (e) => {
          if (e.type === 'CreateCallFailed') failedWith = outcomeOfCreateCallFailed(e.data);
        });
        call.events.on('ended', () => resolve());
        call.events.on('released', () => resolve());
      });
      ctl.answering();
      try {
        await deps.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
        await deps.sessions.saveSession(snapshotOf(call, cfg));
        const { callbackUrl, mediaUrl } = callUrls(cfg.publicBaseUrl, callId, secret);
        const res = await deps.control.createCall({
          target: req.target,
          callerId: cfg.callerId,
          callbackUrl,
          mediaTransportUrl: mediaUrl,
          audioFormat: cfg.audioFormat,
          operationContext: ctl.operationContext,
        });
        if (ctl.finalized) {
          await deps.control.hangUp(res.callConnectionId, ctl.operationContext).catch(() => undefined);
          return { outcome: 'failed' as const, callId };
        }
        deps.registry.bindConnection(call, res.callConnectionId);
        deps.onPlaced?.(req.claimId, callId);
        call.serverCallId = res.serverCallId ?? null;
        if (res.correlationId) call.correlationId = res.correlationId;
        log.info({ correlationId: call.correlationId }, 'outbound call placed');
        call.events.emit('answered', { callConnectionId: res.callConnectionId });
        deps.sessions.saveSession(snapshotOf(call, cfg)).catch((err: unknown) => log.warn({ err }, 'session snapshot not stored'));
      } catch (err) {
        log.warn({ err }, 'createCall failed');
        ctl.abandon('createCall failed');
        return { outcome: 'failed' as const, callId: null };
      }
      await ended;
      const outcome: AttemptOutcome = connected ? 'completed' : (failedWith ?? 'failed');
      return { outcome, callId };
    },
  };
}
