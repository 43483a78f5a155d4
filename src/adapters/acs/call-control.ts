// CallControl over @azure/communication-call-automation. Transient failures are retried by the SDK's
// own retry policy (exponential backoff, configured where the client is built, src/wiring/clients.ts); what still fails surfaces as a typed
// VoiceError. Every request carries the call's operationContext and a timeout.
import type { CallAutomationClient, CallConnection } from '@azure/communication-call-automation';
import type { AnswerRequest, AnswerResult, CallControl, CreateCallRequest } from '../../domain/ports.js';
import type { TransferRequestOptions, TransferTarget } from '../../domain/transfer-target.js';
import { identifierOfRawId, identifierOfTarget } from './transfer-identifiers.js';
import { voiceError } from '../../domain/errors.js';
import { statusOf, toCallControlError } from './errors.js';

export interface AcsClientConfig {
  readonly connectionString: string | undefined;
  readonly endpoint: string | undefined;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
}

export interface AcsCallControlConfig {
  /** Upper bound on one request including the SDK's retries. */
  readonly requestTimeoutMs: number;
  /** Azure AI services endpoint ACS transcribes with; absent for the local simulator. */
  readonly cognitiveServicesEndpoint?: string | undefined;
}

/** The endpoint a connection string or ACS_ENDPOINT names. */
export function acsEndpointOf(cfg: Pick<AcsClientConfig, 'connectionString' | 'endpoint'>): string | undefined {
  if (cfg.connectionString) return /endpoint=([^;]+)/i.exec(cfg.connectionString)?.[1];
  return cfg.endpoint;
}

export class AcsCallControl implements CallControl {
  constructor(
    private readonly client: CallAutomationClient,
    private readonly cfg: AcsCallControlConfig,
  ) {}

  async answer(req: AnswerRequest): Promise<AnswerResult> {
    const res = await this.#run('answer', () =>
      this.client.answerCall(req.incomingCallContext, req.callbackUrl, {
        operationContext: req.operationContext,
        mediaStreamingOptions: {
          transportType: 'websocket',
          transportUrl: req.mediaTransportUrl,
          contentType: 'audio',
          audioChannelType: req.channels,
          startMediaStreaming: true,
          enableBidirectional: true,
          audioFormat: req.audioFormat,
          enableDtmfTones: true,
        },
        ...(req.transcriptionLocale
          ? {
              transcriptionOptions: {
                transportType: 'websocket' as const,
                transportUrl: req.transcriptionTransportUrl ?? req.mediaTransportUrl,
                locale: req.transcriptionLocale,
                startTranscription: true,
                enableIntermediateResults: true,
              },
            }
          : {}),
        ...(this.cfg.cognitiveServicesEndpoint
          ? { callIntelligenceOptions: { cognitiveServicesEndpoint: this.cfg.cognitiveServicesEndpoint } }
          : {}),
        abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs),
      }),
    );
    const props = res.callConnectionProperties;
    if (!props.callConnectionId) throw voiceError('CALL_CONTROL', 'answer returned no callConnectionId');
    return { callConnectionId: props.callConnectionId, serverCallId: props.serverCallId, correlationId: props.correlationId };
  }

  /**
   * Places an outbound PSTN call. The SDK (1.6.0, callAutomationClient.js createCall) sends
   * `POST {endpoint}/calling/callConnections` with targets, sourceCallerIdNumber, callbackUri and the
   * media options, and expects 201 with the call connection's properties; CallConnected (or
   * CreateCallFailed) follows on the callback.
   */
  async createCall(req: CreateCallRequest): Promise<AnswerResult> {
    const res = await this.#run('createCall', () =>
      this.client.createCall({ targetParticipant: { phoneNumber: req.target }, sourceCallIdNumber: { phoneNumber: req.callerId } }, req.callbackUrl, {
        operationContext: req.operationContext,
        mediaStreamingOptions: {
          transportType: 'websocket',
          transportUrl: req.mediaTransportUrl,
          contentType: 'audio',
          audioChannelType: 'mixed',
          startMediaStreaming: true,
          enableBidirectional: true,
          audioFormat: req.audioFormat,
          enableDtmfTones: true,
        },
        abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs),
      }),
    );
    const props = res.callConnectionProperties;
    if (!props.callConnectionId) throw voiceError('CALL_CONTROL', 'createCall returned no callConnectionId');
    return { callConnectionId: props.callConnectionId, serverCallId: props.serverCallId, correlationId: props.correlationId };
  }

  /**
   * Declines an incoming call. The SDK (1.6.0, callAutomationClient.js rejectCall) sends
   * `POST {endpoint}/calling/callConnections:reject` with `{incomingCallContext, callRejectReason}`
   * (KnownCallRejectReason: none | busy | forbidden) and expects 204.
   */
  async reject(incomingCallContext: string, reason: 'busy' | 'none' | 'forbidden'): Promise<void> {
    await this.#run('reject', () =>
      this.client.rejectCall(incomingCallContext, { callRejectReason: reason, abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs) }),
    );
  }

  async hangUp(callConnectionId: string, _operationContext: string): Promise<void> {
    try {
      await this.#run('hangUp', () =>
        this.client.getCallConnection(callConnectionId).hangUp(true, { abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs) }),
      );
    } catch (err) {
      // The call is already gone (the caller hung up first): that is what we wanted.
      if (statusOf((err as Error).cause) === 404) return;
      throw err;
    }
  }

  async playText(callConnectionId: string, text: string, opts: { voiceName?: string; operationContext: string }): Promise<void> {
    await this.#run('playText', () =>
      this.#media(callConnectionId).playToAll([{ kind: 'textSource', text, ...(opts.voiceName ? { voiceName: opts.voiceName } : {}) }], {
        operationContext: opts.operationContext,
        abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs),
      }),
    );
  }

  async cancelMedia(callConnectionId: string, _operationContext: string): Promise<void> {
    // cancelAllOperations takes no options in SDK 1.6.0 (no operationContext, no abort signal).
    await this.#run('cancelMedia', () => this.#media(callConnectionId).cancelAllOperations());
  }

  async startMediaStreaming(callConnectionId: string, operationContext: string): Promise<void> {
    await this.#run('startMediaStreaming', () => this.#media(callConnectionId).startMediaStreaming(this.#opts(operationContext)));
  }

  async stopMediaStreaming(callConnectionId: string, operationContext: string): Promise<void> {
    await this.#run('stopMediaStreaming', () => this.#media(callConnectionId).stopMediaStreaming(this.#opts(operationContext)));
  }

  async startTranscription(callConnectionId: string, operationContext: string): Promise<void> {
    await this.#run('startTranscription', () => this.#media(callConnectionId).startTranscription(this.#opts(operationContext)));
  }

  async stopTranscription(callConnectionId: string, operationContext: string): Promise<void> {
    await this.#run('stopTranscription', () => this.#media(callConnectionId).stopTranscription(this.#opts(operationContext)));
  }

  /**
   * callConnection.transferCallToParticipant (POST …/callConnections/{id}:transferToParticipant; 202,
   * then CallTransferAccepted or CallTransferFailed). The caller goes as `transferee`, "the participant
   * who is transferred away" (TransferCallToParticipantOptions, SDK 1.6.0; "Transfer a call" in
   * learn.microsoft.com/azure/communication-services/how-tos/call-automation/actions-for-call-control).
   */
  async transfer(callConnectionId: string, target: TransferTarget, opts: TransferRequestOptions): Promise<void> {
    const transferee = opts.transfereeRawId ? identifierOfRawId(opts.transfereeRawId) : null;
    await this.#run('transfer', () =>
      this.client.getCallConnection(callConnectionId).transferCallToParticipant(identifierOfTarget(target) as Parameters<CallConnection['transferCallToParticipant']>[0], {
        operationContext: opts.operationContext,
        ...(transferee ? { transferee: transferee as Parameters<CallConnection['transferCallToParticipant']>[0] } : {}),
        abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs),
      }),
    );
  }

  #media(callConnectionId: string) {
    return this.client.getCallConnection(callConnectionId).getCallMedia();
  }

  #opts(operationContext: string) {
    return { operationContext, abortSignal: AbortSignal.timeout(this.cfg.requestTimeoutMs) };
  }

  async #run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toCallControlError(op, err);
    }
  }
}

/** Stands in when ACS is not configured: every operation fails clearly. */
export class UnconfiguredCallControl implements CallControl {
  #fail(): never {
    throw voiceError('CALL_CONTROL', 'ACS is not configured (set ACS_CONNECTION_STRING or ACS_ENDPOINT)');
  }
  async answer(): Promise<AnswerResult> {
    return this.#fail();
  }
  async hangUp(): Promise<void> {
    this.#fail();
  }
  async playText(): Promise<void> {
    this.#fail();
  }
  async cancelMedia(): Promise<void> {
    this.#fail();
  }
  async startMediaStreaming(): Promise<void> {
    this.#fail();
  }
  async stopMediaStreaming(): Promise<void> {
    this.#fail();
  }
  async startTranscription(): Promise<void> {
    this.#fail();
  }
  async stopTranscription(): Promise<void> {
    this.#fail();
  }
  async transfer(): Promise<void> {
    this.#fail();
  }
}
