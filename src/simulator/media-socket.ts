// The simulator's end of a media WebSocket: `ws` does the upgrade (headers, refusals, timeouts), parses
// what the worker sends, answers pings and runs the close handshake; audio frames, pre-built and
// pre-masked (client-frames.ts), are written straight to the TCP/TLS socket, one write per frame.
//
// Why that is safe: the socket comes from ws's documented `createConnection` hook, and with
// permessage-deflate off and no Blob data ws's sender writes every frame it sends (text, pong, close)
// to the socket synchronously and whole. So frames written here and frames ws writes never interleave
// inside one another, and their order is the order of the calls. Nothing is written after the close
// handshake starts (`open` is false from then on).
import { connect as netConnect, isIP, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { WebSocket, type RawData } from 'ws';

export interface MediaSocketOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly handshakeTimeoutMs?: number;
  readonly maxPayload?: number;
}

export class MediaSocket {
  private constructor(
    readonly ws: WebSocket,
    private readonly socket: Socket,
  ) {}

  /** Opens the socket; rejects if the upgrade fails or is refused (HTTP status in the message). */
  static async open(o: MediaSocketOptions): Promise<MediaSocket> {
    let socket: Socket | undefined;
    const secure = o.url.startsWith('wss:');
    const ws = new WebSocket(o.url, {
      headers: o.headers,
      perMessageDeflate: false,
      handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
      maxPayload: o.maxPayload ?? 1024 * 1024,
      createConnection: ((opts: NetConnectOpts & ConnectionOptions & { host?: string; path?: string; socketPath?: string }) => {
        // As ws's own hooks do: `path` is the HTTP path here (net would take it for a Unix socket),
        // and TLS gets SNI unless the host is an IP address.
        if (secure) {
          const host = opts.host ?? '';
          socket = tlsConnect({ ...opts, path: undefined, servername: opts.servername || opts.servername === '' ? opts.servername : isIP(host) ? '' : host });
        } else socket = netConnect({ ...opts, path: opts.socketPath } as NetConnectOpts);
        return socket;
      }) as unknown as typeof netConnect,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`media upgrade refused: HTTP ${res.statusCode}`));
        res.resume();
        ws.terminate();
      });
      ws.once('error', reject);
    });
    // An 'error' without a listener would throw; ws follows every error with 'close'.
    ws.on('error', () => undefined);
    if (!socket) throw new Error('media socket: connection hook not called');
    return new MediaSocket(ws, socket);
  }

  /** True until either side starts closing. */
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes written but not yet handed to the kernel. */
  get buffered(): number {
    return this.socket.writableLength;
  }

  /** Writes one complete pre-built client frame (see client-frames.ts). */
  writeFrame(frame: Buffer): void {
    this.socket.write(frame);
  }

  /** Sends a text message through ws (for the rare, non-audio messages). */
  sendText(text: string): void {
    this.ws.send(text);
  }

  onMessage(fn: (data: RawData, isBinary: boolean) => void): void {
    this.ws.on('message', fn);
  }

  onClose(fn: (code: number) => void): void {
    this.ws.on('close', fn);
  }

  close(code = 1000): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }

  /** Drops the connection without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}
