// A local HTTP peer that speaks the OpenAI chat-completions streaming wire format
// (text/event-stream, `data: {chat.completion.chunk}` lines, `data: [DONE]`), for the real `openai`
// SDK. Records every request and whether the client closed it before the stream finished.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
  /** True when the client closed the connection before the stream ended. */
  closedEarly: boolean;
  finished: boolean;
}

export interface StubBehaviour {
  /** Text pieces streamed as successive deltas. */
  pieces: string[];
  /** Delay between pieces (ms). */
  delayMs: number;
  /** Stop after this many pieces and keep the response open (never finish). */
  hangAfter: number | null;
  /** Answer with this HTTP status and a JSON error instead of streaming. */
  failStatus: number | null;
  /** Per request (by index): tool calls streamed instead of `pieces` (finish_reason tool_calls). */
  toolCalls: (StubToolCall[] | null)[];
}

/** A tool call the stub streams: id and name in the first fragment, arguments split over later ones. */
export interface StubToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface OpenAIStub {
  readonly url: string;
  readonly requests: RecordedRequest[];
  behaviour: StubBehaviour;
  /** Resolves when request i was closed early by the client. */
  untilClosed(i: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOpenAIStub(behaviour: Partial<StubBehaviour> = {}): Promise<OpenAIStub> {
  const requests: RecordedRequest[] = [];
  const closeWaiters = new Map<number, () => void>();
  const stub: OpenAIStub = {
    url: '',
    requests,
    behaviour: { pieces: ['Hello', ' there.'], delayMs: 0, hangAfter: null, failStatus: null, toolCalls: [], ...behaviour },
    untilClosed: (i) =>
      new Promise((resolve) => {
        if (requests[i]?.closedEarly) resolve();
        else closeWaiters.set(i, resolve);
      }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  const server: Server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
        return;
      }
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, closedEarly: false, finished: false };
      const index = requests.push(rec) - 1;
      res.on('close', () => {
        if (!rec.finished) {
          rec.closedEarly = true;
          closeWaiters.get(index)?.();
        }
      });
      if (!/\/chat\/completions$/.test(new URL(rec.url, 'http://x').pathname)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        rec.finished = true;
        return;
      }
      const b = stub.behaviour;
      if (b.failStatus !== null) {
        res.writeHead(b.failStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'stub failure', type: 'server_error' } }));
        rec.finished = true;
        return;
      }
      void stream(res, rec, String(body['model'] ?? 'stub'), b, b.toolCalls[index] ?? null);
    });
  });

  async function stream(res: ServerResponse, rec: RecordedRequest, model: string, b: StubBehaviour, calls: StubToolCall[] | null): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    const created = Math.floor(Date.now() / 1000);
    const send = (delta: Record<string, unknown>, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    send({ role: 'assistant', content: '' }, null);
    if (calls) {
      // As the chat-completions stream sends them: choices[0].delta.tool_calls[{ index, id, type, function }].
      for (const [index, c] of calls.entries()) {
        send({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, null);
        const half = Math.ceil(c.arguments.length / 2);
        for (const part of [c.arguments.slice(0, half), c.arguments.slice(half)]) if (part) send({ tool_calls: [{ index, function: { arguments: part } }] }, null);
      }
      send({}, 'tool_calls');
      res.write('data: [DONE]\n\n');
      rec.finished = true;
      res.end();
      return;
    }
    for (const [i, piece] of b.pieces.entries()) {
      if (b.hangAfter !== null && i >= b.hangAfter) return; // keep the response open
      if (b.delayMs > 0) await new Promise((r) => setTimeout(r, b.delayMs));
      if (rec.closedEarly) return;
      send({ content: piece }, null);
    }
    send({}, 'stop');
    res.write('data: [DONE]\n\n');
    rec.finished = true;
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (stub as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
