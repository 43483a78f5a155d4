// Server-Sent Events for the console (WHATWG HTML "Server-sent events": `id:`, `event:`, `data:`
// fields, a blank line per event, `Last-Event-ID` on reconnect). Every replica receives every console
// event from the bus in the same order (one pub/sub channel), frames it once, keeps the last
// `ringSize` frames, and writes the same string to each connection. A connection whose unsent bytes
// exceed `maxBufferedBytes` is dropped (the browser reconnects with Last-Event-ID): a slow browser
// costs a bounded amount of memory and never delays the bus or a call.
import type { ServerResponse } from 'node:http';

export interface SseClient {
  readonly sessionHash: string;
  readonly res: ServerResponse;
}

export interface SseHubConfig {
  readonly ringSize: number;
  readonly maxBufferedBytes: number;
  readonly heartbeatMs: number;
}

export interface SseHubObserver {
  dropped?(reason: 'slow' | 'session'): void;
  delivered?(frames: number): void;
}

export class SseHub {
  readonly #ring: { id: string; frame: string }[] = [];
  #head = 0;
  readonly #clients = new Set<SseClient>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(
    private readonly cfg: SseHubConfig,
    private readonly observer: SseHubObserver = {},
  ) {
    this.#heartbeat = setInterval(() => this.#broadcast(': ping\n\n'), cfg.heartbeatMs);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#clients.size;
  }

  /** One bus message: `id` and the event's JSON. */
  deliver(id: string, json: string): void {
    const frame = `id: ${id}\ndata: ${json}\n\n`;
    if (this.#ring.length < this.cfg.ringSize) this.#ring.push({ id, frame });
    else {
      this.#ring[this.#head] = { id, frame };
      this.#head = (this.#head + 1) % this.cfg.ringSize;
    }
    this.#broadcast(frame);
  }

  /**
   * Starts a stream on `res` (headers are written here). With a Last-Event-ID still in the ring, the
   * events after it are sent first; one no longer there gets a `reset` event (reload the views).
   */
  open(res: ServerResponse, sessionHash: string, lastEventId: string | null, onClose: () => void): SseClient {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    const client: SseClient = { sessionHash, res };
    this.#clients.add(client);
    res.on('close', () => {
      this.#clients.delete(client);
      onClose();
    });
    res.on('error', () => undefined);
    let head = `retry: 1000\n: ${this.#clients.size}\n\n`;
    if (lastEventId !== null) {
      const ordered = this.#ordered();
      const i = ordered.findIndex((e) => e.id === lastEventId);
      if (i >= 0) for (const e of ordered.slice(i + 1)) head += e.frame;
      else head += 'event: reset\ndata: {}\n\n';
    }
    res.write(head);
    return client;
  }

  /** Ends every stream of a session (signed out, or the session expired). */
  closeSession(sessionHash: string): void {
    for (const c of this.#clients) {
      if (c.sessionHash !== sessionHash) continue;
      this.observer.dropped?.('session');
      c.res.end();
    }
  }

  /** The session hashes with an open stream (for the periodic session check). */
  sessions(): Set<string> {
    const out = new Set<string>();
    for (const c of this.#clients) out.add(c.sessionHash);
    return out;
  }

  closeAll(): void {
    clearInterval(this.#heartbeat);
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
  }

  #broadcast(frame: string): void {
    let n = 0;
    for (const c of this.#clients) {
      if (c.res.writableLength + frame.length > this.cfg.maxBufferedBytes) {
        this.#clients.delete(c);
        this.observer.dropped?.('slow');
        c.res.destroy();
        continue;
      }
      c.res.write(frame);
      n++;
    }
    if (n > 0) this.observer.delivered?.(n);
  }

  #ordered(): { id: string; frame: string }[] {
    return this.#ring.length < this.cfg.ringSize ? this.#ring : [...this.#ring.slice(this.#head), ...this.#ring.slice(0, this.#head)];
  }
}
