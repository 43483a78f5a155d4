// Azure AI Speech text-to-speech over REST: POST {endpoint}/cognitiveservices/v1 with SSML, raw PCM16
// mono out at 16 or 24 kHz (X-Microsoft-OutputFormat). Auth: the subscription key header, or a
// Microsoft Entra ID token (provider built in src/wiring/clients.ts) in one of the two forms the
// service accepts (a bare Entra token on the regional endpoint is refused):
//   - regional endpoint: `Authorization: Bearer aad#<Speech resource id>#<Entra token>`
//   - custom subdomain (https://<name>.cognitiveservices.azure.com): `Authorization: Bearer <Entra token>`
//     on {endpoint}/tts/cognitiveservices/v1
// https://learn.microsoft.com/azure/ai-services/speech-service/how-to-configure-azure-ad-auth
// https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech
import type { Synthesizer } from '../../domain/ports.js';
import { isVoiceError, voiceError } from '../../domain/errors.js';

export interface AzureSpeechOptions {
  /** e.g. https://westeurope.tts.speech.microsoft.com (no path). */
  readonly endpoint: string;
  readonly voice: string;
  readonly key?: string;
  /** Returns an Entra ID access token (scope https://cognitiveservices.azure.com/.default). */
  readonly token?: () => Promise<string>;
  /**
   * How the token is presented: with the Speech resource's ARM id (regional endpoint), or as is on a
   * custom subdomain endpoint. Required with `token`.
   */
  readonly entra?: { readonly resourceId: string } | { readonly customDomain: true };
  readonly timeoutMs: number;
}

const FORMATS: Record<number, string> = {
  16000: 'raw-16khz-16bit-mono-pcm',
  24000: 'raw-24khz-16bit-mono-pcm',
};

/** True for a custom subdomain endpoint of an Azure AI services / Speech resource. */
export function isCustomDomainEndpoint(endpoint: string): boolean {
  try {
    return new URL(endpoint).hostname.toLowerCase().endsWith('.cognitiveservices.azure.com');
  } catch {
    return false;
  }
}

export function azureSpeechEndpoint(region: string | undefined, endpoint: string | undefined): string {
  if (endpoint) return endpoint.replace(/\/+$/, '');
  if (!region || !/^[a-z0-9-]+$/i.test(region)) throw voiceError('TTS', 'Azure Speech needs a region or an endpoint');
  return `https://${region}.tts.speech.microsoft.com`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

export function ssml(text: string, voice: string): string {
  const lang = /^[a-z]{2,3}-[A-Z]{2}/.exec(voice)?.[0] ?? 'en-US';
  return `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${lang}"><voice name="${escapeXml(voice)}">${escapeXml(text)}</voice></speak>`;
}

export class AzureSpeechSynthesizer implements Synthesizer {
  readonly id: string;

  constructor(private readonly opts: AzureSpeechOptions) {
    if (!opts.key && !opts.token) throw voiceError('TTS', 'Azure Speech needs a key or a token provider');
    if (!opts.key && !opts.entra) throw voiceError('TTS', 'Azure Speech with Entra ID needs the Speech resource id or a custom subdomain endpoint');
    this.id = `azure:${opts.voice}`;
    this.#url = !opts.key && opts.entra && 'customDomain' in opts.entra ? `${opts.endpoint}/tts/cognitiveservices/v1` : `${opts.endpoint}/cognitiveservices/v1`;
  }

  readonly #url: string;

  async #authorization(): Promise<string> {
    const token = await this.opts.token!();
    const entra = this.opts.entra!;
    return 'resourceId' in entra ? `Bearer aad#${entra.resourceId}#${token}` : `Bearer ${token}`;
  }

  async synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array> {
    const format = FORMATS[sampleRate];
    if (!format) throw voiceError('TTS', `unsupported sample rate ${sampleRate}`);
    const headers: Record<string, string> = {
      'Content-Type': 'application/ssml+xml',
      'X-Microsoft-OutputFormat': format,
      'User-Agent': 'voice-worker',
    };
    if (this.opts.key) headers['Ocp-Apim-Subscription-Key'] = this.opts.key;
    else headers['Authorization'] = await this.#authorization();
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers,
        body: ssml(text, this.opts.voice),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs)]),
      });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw voiceError('TTS', `Azure Speech answered ${res.status}`);
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      const even = buf.byteLength & ~1;
      return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + even));
    } catch (err) {
      if (signal.aborted || isVoiceError(err)) throw err;
      throw voiceError('TTS', 'Azure Speech request failed', err);
    }
  }
}
