// Azure AI Speech synthesizer against a local REST peer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureSpeechSynthesizer, azureSpeechEndpoint, ssml } from '../../src/adapters/tts/azure-speech-synthesizer.js';
import { loadConfig } from '../../src/config.js';
import { startAzureSpeechStub, type AzureSpeechStub } from '../support/azure-speech-stub-server.js';
import { harness, say } from '../support/convo-harness.js';
import { LINES } from '../../src/adapters/responder/local-responder.js';

let stub: AzureSpeechStub;
beforeAll(async () => {
  stub = await startAzureSpeechStub();
});
afterAll(async () => {
  await stub.close();
});

const signal = () => new AbortController().signal;

describe('azure speech synthesizer', () => {
  it('posts SSML with the output format for the stream rate and returns PCM16 of that rate', async () => {
    const s = new AzureSpeechSynthesizer({ endpoint: stub.url, voice: 'en-GB-SoniaNeural', key: stub.key, timeoutMs: 2000 });
    const text = 'Fish & chips <today>';
    const pcm16 = await s.synthesize(text, 16000, signal());
    const pcm24 = await s.synthesize(text, 24000, signal());
    expect(pcm16.length).toBe(Math.round((16000 * 60 * ssmlText(text).length) / 1000));
    expect(pcm24.length).toBe(Math.round((24000 * 60 * ssmlText(text).length) / 1000));
    const [r16, r24] = stub.requests.slice(-2);
    expect(r16!.headers['x-microsoft-outputformat']).toBe('raw-16khz-16bit-mono-pcm');
    expect(r24!.headers['x-microsoft-outputformat']).toBe('raw-24khz-16bit-mono-pcm');
    expect(r16!.headers['ocp-apim-subscription-key']).toBe(stub.key);
    expect(r16!.body).toBe(ssml(text, 'en-GB-SoniaNeural'));
    expect(r16!.body).toContain('xml:lang="en-GB"');
    expect(r16!.body).toContain('Fish &amp; chips &lt;today&gt;');
    expect(s.id).toBe('azure:en-GB-SoniaNeural');
  });

  it('Entra ID on the regional endpoint: Authorization is exactly Bearer aad#<resourceId>#<token>', async () => {
    const s = new AzureSpeechSynthesizer({ endpoint: stub.url, voice: 'en-US-JennyNeural', token: async () => stub.token, entra: { resourceId: stub.resourceId }, timeoutMs: 2000 });
    expect((await s.synthesize('Hello.', 16000, signal())).length).toBeGreaterThan(0);
    expect(stub.requests.at(-1)!.url).toBe('/cognitiveservices/v1');
    expect(stub.requests.at(-1)!.headers['authorization']).toBe(`Bearer aad#${stub.resourceId}#${stub.token}`);
  });

  it('Entra ID on a custom subdomain: Bearer <token> on /tts/cognitiveservices/v1', async () => {
    const s = new AzureSpeechSynthesizer({ endpoint: stub.url, voice: 'en-US-JennyNeural', token: async () => stub.token, entra: { customDomain: true }, timeoutMs: 2000 });
    expect((await s.synthesize('Hello.', 16000, signal())).length).toBeGreaterThan(0);
    expect(stub.requests.at(-1)!.url).toBe('/tts/cognitiveservices/v1');
    expect(stub.requests.at(-1)!.headers['authorization']).toBe(`Bearer ${stub.token}`);
  });

  it('a bare Entra token on the regional endpoint is refused (the form that failed with local auth disabled)', async () => {
    await expect(
      fetch(`${stub.url}/cognitiveservices/v1`, { method: 'POST', headers: { authorization: `Bearer ${stub.token}`, 'content-type': 'application/ssml+xml', 'x-microsoft-outputformat': 'raw-16khz-16bit-mono-pcm' }, body: ssml('Hi', 'en-US-JennyNeural') }).then((r) => r.status),
    ).resolves.toBe(401);
    expect(() => new AzureSpeechSynthesizer({ endpoint: stub.url, voice: 'v', token: async () => 't', timeoutMs: 1 })).toThrow(/resource id or a custom subdomain/);
  });

  it('config: Entra ID Speech needs the resource id unless the endpoint is a custom subdomain', () => {
    expect(() => loadConfig({ TTS: 'azure', AZURE_SPEECH_REGION: 'westeurope' })).toThrow(/AZURE_SPEECH_RESOURCE_ID: required for Entra ID/);
    expect(loadConfig({ TTS: 'azure', AZURE_SPEECH_ENDPOINT: 'https://voice-ai.cognitiveservices.azure.com' }).tts.azureResourceId).toBeUndefined();
    expect(loadConfig({ TTS: 'azure', AZURE_SPEECH_REGION: 'westeurope', AZURE_SPEECH_RESOURCE_ID: stub.resourceId }).tts.azureResourceId).toBe(stub.resourceId);
  });

  it('maps a rejected request to VOICE_ERR_TTS', async () => {
    const s = new AzureSpeechSynthesizer({ endpoint: stub.url, voice: 'en-US-JennyNeural', key: 'wrong', timeoutMs: 2000 });
    await expect(s.synthesize('Hello.', 16000, signal())).rejects.toMatchObject({ code: 'VOICE_ERR_TTS' });
  });

  it('builds the regional endpoint', () => {
    expect(azureSpeechEndpoint('westeurope', undefined)).toBe('https://westeurope.tts.speech.microsoft.com');
    expect(azureSpeechEndpoint(undefined, 'http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
  });

  it('speaks pipeline replies at 24 kHz through TTS=azure', async () => {
    const h = harness({ TTS: 'azure', AZURE_SPEECH_ENDPOINT: stub.url, AZURE_SPEECH_KEY: stub.key, MEDIA_AUDIO_FORMAT: 'pcm24KMono' }, { synthesizer: 'configured' });
    expect(h.wiring.synthesizer!.id).toBe('azure:en-US-JennyNeural');
    const { call, outlet } = h.newCall({ sampleRate: 24000 });
    say(call, 'When are you open?');
    const hist = await h.untilTurns(call.callId, 2);
    expect(hist.map((t) => t.text)).toContain(LINES.hours);
    expect(outlet.utterances).toHaveLength(1);
    expect(outlet.pcm(0).length).toBe(Math.round((24000 * 60 * LINES.hours.length) / 1000));
    expect(stub.requests.at(-1)!.headers['x-microsoft-outputformat']).toBe('raw-24khz-16bit-mono-pcm');
  });
});

function ssmlText(t: string): string {
  return t.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}
