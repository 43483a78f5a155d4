// A local HTTP peer for the Azure AI Speech text-to-speech REST API: POST /cognitiveservices/v1
// with SSML, answers raw PCM16 mono in the requested X-Microsoft-OutputFormat. The audio is a tone
// whose length follows the text, so tests can tell replies apart.
// Authorization as the service takes it with local auth disabled: a bare Entra token is refused on
// the regional path /cognitiveservices/v1, which takes `Bearer aad#<resourceId>#<token>`; the custom
// subdomain path /tts/cognitiveservices/v1 takes `Bearer <token>`
// (https://learn.microsoft.com/azure/ai-services/speech-service/how-to-configure-azure-ad-auth).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpeechRequest {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface AzureSpeechStub {
  readonly url: string;
  readonly requests: SpeechRequest[];
  /** Accepted subscription key (Ocp-Apim-Subscription-Key) and bearer token. */
  readonly key: string;
  readonly token: string;
  /** The Speech resource id the regional form must name. */
  readonly resourceId: string;
  close(): Promise<void>;
}

const RATES: Record<string, number> = { 'raw-16khz-16bit-mono-pcm': 16000, 'raw-24khz-16bit-mono-pcm': 24000 };

export const STUB_SPEECH_RESOURCE_ID = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/speech';

export async function startAzureSpeechStub(opts: { key?: string; token?: string; resourceId?: string } = {}): Promise<AzureSpeechStub> {
  const key = opts.key ?? 'speech-key';
  const token = opts.token ?? 'speech-token';
  const resourceId = opts.resourceId ?? STUB_SPEECH_RESOURCE_ID;
  const requests: SpeechRequest[] = [];
  const server: Server = createServer((req, res) => {
    req.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ url: req.url ?? '', headers: req.headers, body });
      const regional = req.url === '/cognitiveservices/v1';
      if (req.method !== 'POST' || (!regional && req.url !== '/tts/cognitiveservices/v1')) return void res.writeHead(404).end();
      const bearer = regional ? `Bearer aad#${resourceId}#${token}` : `Bearer ${token}`;
      const authorized = req.headers['ocp-apim-subscription-key'] === key || req.headers['authorization'] === bearer;
      if (!authorized) return void res.writeHead(401).end();
      if (req.headers['content-type'] !== 'application/ssml+xml' || !/<speak[\s>]/.test(body)) return void res.writeHead(400).end();
      const rate = RATES[String(req.headers['x-microsoft-outputformat'])];
      if (!rate) return void res.writeHead(400).end();
      const text = /<voice[^>]*>([\s\S]*)<\/voice>/.exec(body)?.[1] ?? '';
      const samples = Math.round((rate * 60 * text.length) / 1000); // 60 ms per character
      const pcm = Buffer.alloc(samples * 2);
      for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate)), i * 2);
      res.writeHead(200, { 'content-type': 'audio/basic' }).end(pcm);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    key,
    token,
    resourceId,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
