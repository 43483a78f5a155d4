// One simulated call as the simulator sees it: identifiers, what the worker asked for, what was
// delivered, and what came back. Tests assert on these records (Simulator.calls).

import type { SimTransferRecord } from './sim-transfer.js';

export interface CommunicationIdentifierWire {
  readonly kind: 'phoneNumber' | 'communicationUser';
  readonly rawId: string;
  readonly phoneNumber?: { readonly value: string };
  readonly communicationUser?: { readonly id: string };
}

/** The parts of the worker's answer request the simulator acts on. */
export interface AnswerRequest {
  readonly callbackUri: string;
  readonly operationContext: string | undefined;
  readonly mediaStreamingOptions: Record<string, unknown> | undefined;
  readonly transcriptionOptions: Record<string, unknown> | undefined;
  /** callIntelligenceOptions.cognitiveServicesEndpoint: without it ACS cannot transcribe (TranscriptionFailed 8522). */
  readonly cognitiveServicesEndpoint: string | undefined;
}

export interface CallbackRecord {
  readonly type: string;
  readonly id: string;
  /** Final HTTP status (0 = network error) and attempts it took. */
  status: number;
  attempts: number;
  duplicated: boolean;
}

export interface CallerTurnRecord {
  readonly utterance: number;
  onsetAt: number | undefined;
  finalAt: number | undefined;
}

export interface OutboundChunk {
  readonly at: number;
  readonly pcm: Buffer;
}

/** Largest captured outbound audio per call (~2 min of 16 kHz PCM16); later audio is not kept. */
export const MAX_CAPTURE_BYTES = 4 * 1024 * 1024;
export const MAX_CALLER_TURNS = 100;

export type CallState = 'offered' | 'answered' | 'connected' | 'disconnected';

export interface SimCall {
  readonly index: number;
  readonly scenario: string;
  readonly incomingCallContext: string;
  readonly contextExpiresAt: number;
  readonly serverCallId: string;
  readonly correlationId: string;
  readonly caller: CommunicationIdentifierWire;
  readonly callee: CommunicationIdentifierWire;
  callConnectionId: string | undefined;
  state: CallState;
  answer: AnswerRequest | undefined;
  /** Answer requests executed (must stay ≤ 1) and received (repeats included). */
  answers: number;
  /** Declined by the worker with rejectCall (its callRejectReason), never answered. */
  rejectedWith?: string;
  answerRequests: number;
  incomingCallDeliveries: number;
  callbacks: CallbackRecord[];
  playRequests: { readonly sources: unknown; readonly operationContext: string | undefined }[];
  hangupRequests: ('terminate' | 'delete')[];
  mediaOperations: string[];
  mediaConnections: number;
  /** Transcription sockets opened (when transcription has its own transportUrl). */
  transcriptionConnections?: number;
  /** The answer asked for transcription without a Cognitive Services endpoint: TranscriptionFailed (8522) sent. */
  transcriptionFailed?: boolean;
  /** Outbound (worker → ACS) audio frames and stopAudio messages received, times in ms since offeredAt. */
  outboundFrames: number;
  stopAudioTimes: number[];
  /**
   * Agent frames ACS still held unplayed when each stopAudio arrived (discarded, as ACS does), by
   * stopAudio. The simulator plays the agent's audio out at one frame per 20 ms tick, like a phone.
   */
  stopDiscardedFrames: number[];
  /** Agent frames played out to the caller (heard). */
  heardFrames: number;
  /** Caller frames sent with the agent's echo mixed in (the `echo` scenario). */
  echoFrames: number;
  /** What the caller said: utterance index, speech onset and Final transcript times (ms since offeredAt). */
  callerTurns?: CallerTurnRecord[];
  /** Decoded outbound PCM16 by arrival (ms since offeredAt); only with runCalls({ captureOutbound }). */
  outboundAudio?: OutboundChunk[] | undefined;
  outboundAudioBytes?: number;
  violations: string[];
  failure: string | undefined;
  /** 'transfer': our leg left after CallTransferAccepted. */
  disconnectedBy: 'caller' | 'worker' | 'transfer' | undefined;
  /** transferToParticipant requests, in order (absent until the first). */
  transferRequests?: SimTransferRecord[];
  offeredAt: number;
  answeredAt: number | undefined;
  firstAgentAudioAt: number | undefined;
  endedAt: number | undefined;
}

export function phoneIdentifier(number: string): CommunicationIdentifierWire {
  return { kind: 'phoneNumber', rawId: `4:${number}`, phoneNumber: { value: number } };
}

export function acsUserIdentifier(id: string): CommunicationIdentifierWire {
  return { kind: 'communicationUser', rawId: id, communicationUser: { id } };
}

/** What identifies a newly offered call; everything else starts empty. */
export type SimCallIdentity = Pick<
  SimCall,
  'index' | 'scenario' | 'incomingCallContext' | 'contextExpiresAt' | 'serverCallId' | 'correlationId' | 'caller' | 'callee' | 'offeredAt'
>;

/** A call in state 'offered' with every record field set (one shape for every call). */
export function newSimCall(id: SimCallIdentity, opts: { captureOutbound?: boolean } = {}): SimCall {
  return {
    ...id,
    callConnectionId: undefined,
    state: 'offered',
    answer: undefined,
    answers: 0,
    answerRequests: 0,
    incomingCallDeliveries: 0,
    callbacks: [],
    playRequests: [],
    hangupRequests: [],
    mediaOperations: [],
    mediaConnections: 0,
    outboundFrames: 0,
    stopAudioTimes: [],
    stopDiscardedFrames: [],
    heardFrames: 0,
    echoFrames: 0,
    callerTurns: [],
    outboundAudio: opts.captureOutbound ? [] : undefined,
    outboundAudioBytes: 0,
    violations: [],
    failure: undefined,
    disconnectedBy: undefined,
    answeredAt: undefined,
    firstAgentAudioAt: undefined,
    endedAt: undefined,
  };
}
