// Strict shape checks for what a (simulated) ACS sends a worker: media messages, Call Automation
// CloudEvents and Event Grid events. Each returns a list of problems (empty = conforms). "Strict" means
// unknown fields are problems too.

type Obj = Record<string, unknown>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keys(o: Obj, required: string[], optional: string[], where: string, out: string[]): void {
  for (const k of required) if (!(k in o)) out.push(`${where}: missing ${k}`);
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) out.push(`${where}: unexpected field ${k}`);
}

const str = (v: unknown) => typeof v === 'string' && v.length > 0;
const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export interface MediaStreamState {
  frameBytes?: number;
  seen: number;
}

/** Checks one inbound media message; `state` carries the stream's AudioMetadata across messages. */
export function checkMediaMessage(text: string, state: MediaStreamState): string[] {
  const out: string[] = [];
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return ['not JSON'];
  }
  if (!isObj(m)) return ['not an object'];
  const kind = m.kind;
  const first = state.seen === 0;
  state.seen++;
  if (first && kind !== 'AudioMetadata') out.push(`first message is ${String(kind)}, not AudioMetadata`);
  const bodyKey = typeof kind === 'string' ? kind.charAt(0).toLowerCase() + kind.slice(1) : '';
  keys(m, ['kind', bodyKey], [], 'message', out);
  const b = m[bodyKey];
  if (!isObj(b)) return [...out, `${bodyKey} is not an object`];
  switch (kind) {
    case 'AudioMetadata':
      keys(b, ['subscriptionId', 'encoding', 'sampleRate', 'channels', 'length'], [], kind, out);
      if (!str(b.subscriptionId)) out.push('AudioMetadata.subscriptionId');
      if (b.encoding !== 'PCM') out.push('AudioMetadata.encoding');
      if (b.sampleRate !== 16000 && b.sampleRate !== 24000) out.push('AudioMetadata.sampleRate');
      if (b.channels !== 1) out.push('AudioMetadata.channels');
      if (b.length !== (b.sampleRate === 24000 ? 960 : 640)) out.push('AudioMetadata.length does not match the rate');
      state.frameBytes = typeof b.length === 'number' ? b.length : undefined;
      break;
    case 'AudioData': {
      keys(b, ['data', 'timestamp', 'silent'], ['participantRawID'], kind, out);
      if (typeof b.data !== 'string' || !B64.test(b.data) || b.data.length % 4 !== 0) out.push('AudioData.data is not base64');
      else if (Buffer.from(b.data, 'base64').length !== state.frameBytes) out.push(`AudioData.data is ${Buffer.from(b.data, 'base64').length} bytes, not ${state.frameBytes}`);
      if (typeof b.timestamp !== 'string' || !ISO.test(b.timestamp)) out.push('AudioData.timestamp is not ISO 8601');
      if (typeof b.silent !== 'boolean') out.push('AudioData.silent is not boolean');
      if ('participantRawID' in b && !str(b.participantRawID)) out.push('AudioData.participantRawID');
      break;
    }
    case 'TranscriptionMetadata':
      keys(b, ['subscriptionId', 'locale', 'callConnectionId', 'correlationId'], ['speechRecognitionModelEndpointId'], kind, out);
      for (const k of ['subscriptionId', 'locale', 'callConnectionId', 'correlationId']) if (!str(b[k])) out.push(`TranscriptionMetadata.${k}`);
      break;
    case 'TranscriptionData': {
      // The real-time transcription docs' sample has no duration (top level or per word); the SDK model has durationInTicks: both.
      keys(b, ['text', 'format', 'confidence', 'offset', 'words', 'participantRawID', 'resultStatus'], ['duration'], kind, out);
      if (!str(b.text)) out.push('TranscriptionData.text');
      if (b.format !== 'display') out.push('TranscriptionData.format');
      if (typeof b.confidence !== 'number' || b.confidence < 0 || b.confidence > 1) out.push('TranscriptionData.confidence');
      if (!int(b.offset) || (b.duration !== undefined && (!int(b.duration) || (b.duration as number) === 0))) out.push('TranscriptionData.offset/duration are not tick counts');
      if (!str(b.participantRawID)) out.push('TranscriptionData.participantRawID');
      if (b.resultStatus !== 'Final' && b.resultStatus !== 'Intermediate') out.push('TranscriptionData.resultStatus');
      if (!Array.isArray(b.words) || b.words.length === 0) out.push('TranscriptionData.words is empty');
      else
        for (const w of b.words) {
          if (!isObj(w)) {
            out.push('TranscriptionData.words[] entry');
            continue;
          }
          keys(w, ['text', 'offset'], ['duration'], 'word', out);
          if (!str(w.text) || !int(w.offset) || (w.duration !== undefined && !int(w.duration))) out.push('TranscriptionData.words[] fields');
          else if ((w.offset as number) < (b.offset as number)) out.push('TranscriptionData word before the result');
          else if (w.duration !== undefined && b.duration !== undefined && (w.offset as number) + (w.duration as number) > (b.offset as number) + (b.duration as number) + 1)
            out.push('TranscriptionData word outside the result');
        }
      break;
    }
    case 'DtmfData':
      keys(b, ['data'], [], kind, out);
      if (typeof b.data !== 'string' || !/^[0-9*#A-D]$/.test(b.data)) out.push('DtmfData.data is not one tone');
      break;
    default:
      out.push(`unknown kind ${String(kind)}`);
  }
  return out;
}

function checkIdentifier(v: unknown, where: string, out: string[]): void {
  if (!isObj(v)) return void out.push(`${where} is not an identifier`);
  if (v.kind === 'phoneNumber') {
    keys(v, ['kind', 'rawId', 'phoneNumber'], [], where, out);
    const pn = v.phoneNumber;
    if (!isObj(pn) || typeof pn.value !== 'string' || !/^\+\d{7,15}$/.test(pn.value)) out.push(`${where}.phoneNumber.value`);
    else if (v.rawId !== `4:${pn.value}`) out.push(`${where}.rawId does not match the number`);
  } else if (v.kind === 'communicationUser') {
    keys(v, ['kind', 'rawId', 'communicationUser'], [], where, out);
    const cu = v.communicationUser;
    if (!isObj(cu) || typeof cu.id !== 'string' || !cu.id.startsWith('8:acs:')) out.push(`${where}.communicationUser.id`);
    else if (v.rawId !== cu.id) out.push(`${where}.rawId does not match the user id`);
  } else out.push(`${where}.kind ${String(v.kind)}`);
}

/** One Call Automation CloudEvent. */
export function checkCloudEvent(e: unknown): string[] {
  const out: string[] = [];
  if (!isObj(e)) return ['event is not an object'];
  keys(e, ['id', 'source', 'type', 'data', 'time', 'specversion', 'datacontenttype', 'subject'], [], 'cloudevent', out);
  if (!str(e.id)) out.push('id');
  if (e.specversion !== '1.0') out.push('specversion');
  if (e.datacontenttype !== 'application/json') out.push('datacontenttype');
  if (typeof e.type !== 'string' || !/^Microsoft\.Communication\.[A-Za-z]+$/.test(e.type)) out.push('type');
  if (typeof e.time !== 'string' || !ISO.test(e.time)) out.push('time');
  const d = e.data;
  if (!isObj(d)) return [...out, 'data'];
  for (const k of ['callConnectionId', 'serverCallId', 'correlationId']) if (!str(d[k])) out.push(`data.${k}`);
  if (e.source !== `calling/callConnections/${String(d.callConnectionId)}`) out.push('source does not name the call connection');
  const ri = d.resultInformation;
  if (!isObj(ri) || typeof ri.code !== 'number' || typeof ri.subCode !== 'number' || typeof ri.message !== 'string') out.push('data.resultInformation');
  if ('operationContext' in d && typeof d.operationContext !== 'string') out.push('data.operationContext');
  return out;
}

/** One Event Grid event (validation or IncomingCall). */
export function checkEventGridEvent(e: unknown): string[] {
  const out: string[] = [];
  if (!isObj(e)) return ['event is not an object'];
  keys(e, ['id', 'topic', 'subject', 'eventType', 'data', 'dataVersion', 'metadataVersion', 'eventTime'], [], 'eventgrid', out);
  if (e.metadataVersion !== '1') out.push('metadataVersion');
  if (typeof e.eventTime !== 'string' || !ISO.test(e.eventTime)) out.push('eventTime');
  const d = e.data;
  if (!isObj(d)) return [...out, 'data'];
  if (e.eventType === 'Microsoft.EventGrid.SubscriptionValidationEvent') {
    keys(d, ['validationCode', 'validationUrl'], [], 'validation', out);
  } else if (e.eventType === 'Microsoft.Communication.IncomingCall') {
    keys(d, ['to', 'from', 'serverCallId', 'callerDisplayName', 'incomingCallContext', 'correlationId'], ['customContext'], 'IncomingCall', out);
    checkIdentifier(d.to, 'to', out);
    checkIdentifier(d.from, 'from', out);
    for (const k of ['serverCallId', 'incomingCallContext', 'correlationId']) if (!str(d[k])) out.push(`data.${k}`);
    if (typeof d.callerDisplayName !== 'string') out.push('data.callerDisplayName');
  } else out.push(`eventType ${String(e.eventType)}`);
  return out;
}
