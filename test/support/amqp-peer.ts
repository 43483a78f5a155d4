// A local AMQP 1.0 peer that the real @azure/service-bus SDK talks to: $cbs put-token with signature
// verification, queues with peek-lock delivery, settlement (complete/abandon/defer/dead-letter),
// $management renew-lock, lock expiry redelivery and max-delivery-count dead-lettering.
// stop()/start() close and reopen the same port for outage tests; introspection for assertions.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import rhea from 'rhea';
import type { Container, Delivery, EventContext, Message, Receiver, Sender } from 'rhea';

const BATCH_FORMAT = 0x80013700;

type Outcome = { described(): unknown };
interface RheaMessageApi {
  accepted(): Outcome;
  rejected(o: object): Outcome;
  modified(o: object): Outcome;
  released(): Outcome;
  decode(b: Buffer): Message;
  encode(m: Message): Buffer;
}
const amqpMessage = (rhea as unknown as { message: RheaMessageApi }).message;

interface LinkState {
  remote: { attach?: { source?: { address?: string }; target?: { address?: string } } };
  local: { attach: Record<string, unknown> };
}
const linkState = (l: Sender | Receiver) => l as unknown as LinkState;

export interface StoredMessage {
  readonly seq: number;
  readonly message: Message;
  readonly messageId: string;
  deliveryCount: number;
  readonly enqueuedAt: Date;
  deadLetterReason?: string;
  deadLetterDescription?: string;
}

interface Lock {
  readonly msg: StoredMessage;
  readonly queue: QueueState;
  readonly delivery: Delivery;
  until: number;
  timer: NodeJS.Timeout;
}

interface QueueState {
  readonly name: string;
  readonly ready: StoredMessage[];
  readonly dead: StoredMessage[];
  readonly senders: Set<Sender>;
  completed: number;
  /** Duplicate detection: messageId → when it stops counting as a repeat (epoch ms). */
  readonly seen: Map<string, number>;
}

export interface AmqpPeerOptions {
  readonly keyName?: string;
  readonly key?: string;
  readonly maxMessageSize?: number;
  readonly lockDurationMs?: number;
  readonly maxDeliveryCount?: number;
  /**
   * Duplicate detection window (ms; 0 = off). Like a Service Bus queue created with
   * requiresDuplicateDetection: a message whose messageId was sent within the window is accepted
   * and dropped (default 10 minutes, the Service Bus default duplicateDetectionHistoryTimeWindow).
   */
  readonly duplicateDetectionMs?: number;
}

export class AmqpPeer {
  readonly keyName: string;
  readonly key: string;
  readonly maxMessageSize: number;
  readonly lockDurationMs: number;
  readonly maxDeliveryCount: number;
  readonly duplicateDetectionMs: number;
  /** put-token requests refused for a bad signature. */
  cbsRejected = 0;
  /** Messages accepted and dropped because their messageId was seen within the window. */
  duplicatesDropped = 0;
  /** Transfers received from senders (a batch counts once). */
  transfersIn = 0;
  readonly #queues = new Map<string, QueueState>();
  readonly #locks = new Map<string, Lock>();
  readonly #replySenders = new Map<string, Sender>();
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port = 0;
  #seq = 0;

  private constructor(opts: AmqpPeerOptions) {
    this.keyName = opts.keyName ?? 'RootManageSharedAccessKey';
    this.key = opts.key ?? randomBytes(32).toString('base64');
    this.maxMessageSize = opts.maxMessageSize ?? 262_144;
    this.lockDurationMs = opts.lockDurationMs ?? 30_000;
    this.maxDeliveryCount = opts.maxDeliveryCount ?? 10;
    this.duplicateDetectionMs = opts.duplicateDetectionMs ?? 600_000;
  }

  static async start(opts: AmqpPeerOptions = {}): Promise<AmqpPeer> {
    const peer = new AmqpPeer(opts);
    await peer.start();
    return peer;
  }

  get port(): number {
    return this.#port;
  }

  connectionString(key = this.key): string {
    return `Endpoint=sb://127.0.0.1:${this.#port};SharedAccessKeyName=${this.keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true;`;
  }

  /** Listens (again) on the same port. */
  async start(): Promise<void> {
    if (this.#server) return;
    const container = rhea.create_container({ id: 'amqp-peer' });
    this.#wire(container);
    const server = container.listen({
      port: this.#port,
      host: '127.0.0.1',
      treat_modified_as_released: false,
      autoaccept: false,
      autosettle: false,
      max_frame_size: 65_536,
    } as never) as unknown as Server;
    server.on('connection', (s: Socket) => {
      s.setNoDelay(true);
      s.on('error', () => undefined);
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Closes the listener and every connection abruptly. Queue contents and locks survive. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    for (const q of this.#queues.values()) q.senders.clear();
    this.#replySenders.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.stop();
    for (const l of this.#locks.values()) clearTimeout(l.timer);
    this.#locks.clear();
  }

  depth(queue: string): number {
    return this.#queue(queue).ready.length;
  }

  locked(queue: string): number {
    let n = 0;
    for (const l of this.#locks.values()) if (l.queue.name === queue.toLowerCase()) n++;
    return n;
  }

  /** Messages waiting in a queue (not yet delivered or settled), oldest first. */
  ready(queue: string): readonly StoredMessage[] {
    return this.#queue(queue).ready;
  }

  completed(queue: string): number {
    return this.#queue(queue).completed;
  }

  deadLetters(queue: string): readonly StoredMessage[] {
    return this.#queue(queue).dead;
  }

  #queue(name: string): QueueState {
    const key = name.toLowerCase();
    let q = this.#queues.get(key);
    if (!q) {
      q = { name: key, ready: [], dead: [], senders: new Set(), completed: 0, seen: new Map() };
      this.#queues.set(key, q);
    }
    return q;
  }

  #wire(c: Container): void {
    c.on('connection_open', () => undefined);
    c.on('error', () => undefined);
    // A client that vanished (process killed): its receiving links can take no more deliveries.
    // What it held locked is redelivered when the lock expires, as Service Bus does.
    c.on('disconnected', (ctx: EventContext) => {
      for (const q of this.#queues.values()) for (const s of [...q.senders]) if (s.connection === ctx.connection) q.senders.delete(s);
    });
    c.on('connection_error', () => undefined);
    c.on('receiver_open', (ctx: EventContext) => {
      const r = ctx.receiver as Receiver;
      const address = linkState(r).remote.attach?.target?.address ?? '';
      linkState(r).local.attach.target = { address };
      if (!address.includes('$')) linkState(r).local.attach.max_message_size = this.maxMessageSize;
      r.open();
      r.add_credit(1000);
    });
    c.on('sender_open', (ctx: EventContext) => {
      const s = ctx.sender as Sender;
      const attach = linkState(s).remote.attach;
      const source = attach?.source?.address ?? '';
      linkState(s).local.attach.source = { address: source };
      s.open();
      if (source.endsWith('$cbs') || source.endsWith('$management')) {
        if (attach?.target?.address) this.#replySenders.set(attach.target.address, s);
        this.#replySenders.set(s.name, s);
        return;
      }
      const q = this.#queue(source);
      q.senders.add(s);
      s.on('sender_close', () => q.senders.delete(s));
    });
    c.on('sender_close', (ctx: EventContext) => {
      for (const q of this.#queues.values()) q.senders.delete(ctx.sender as Sender);
    });
    c.on('sendable', (ctx: EventContext) => {
      const s = ctx.sender as Sender;
      for (const q of this.#queues.values()) if (q.senders.has(s)) this.#pump(q);
    });
    c.on('sender_draining', (ctx: EventContext) => {
      // The receiver asked for a drain: deliver what is ready, then hand back the unused credit.
      const s = ctx.sender as Sender;
      for (const q of this.#queues.values()) if (q.senders.has(s)) this.#pump(q);
      (s as unknown as { set_drained(d: boolean): void }).set_drained(true);
    });
    c.on('message', (ctx: EventContext) => this.#onMessage(ctx));
    c.on('accepted', (ctx: EventContext) => this.#settle(ctx, 'accepted'));
    c.on('rejected', (ctx: EventContext) => this.#settle(ctx, 'rejected'));
    c.on('modified', (ctx: EventContext) => this.#settle(ctx, 'modified'));
    c.on('released', (ctx: EventContext) => this.#settle(ctx, 'released'));
  }

  #onMessage(ctx: EventContext): void {
    const r = ctx.receiver as Receiver;
    const address = linkState(r).remote.attach?.target?.address ?? '';
    const msg = ctx.message as Message;
    const delivery = ctx.delivery as Delivery;
    if (address.endsWith('$cbs')) {
      this.#onCbs(msg);
      delivery.update(true, amqpMessage.accepted().described());
      return;
    }
    if (address.endsWith('$management')) {
      this.#onManagement(address.slice(0, -'/$management'.length), msg);
      delivery.update(true, amqpMessage.accepted().described());
      return;
    }
    this.transfersIn++;
    const q = this.#queue(address);
    const format = (delivery as unknown as { format?: number }).format;
    if (format === BATCH_FORMAT && Buffer.isBuffer(msg)) {
      const outer = amqpMessage.decode(msg as Buffer);
      const body = outer.body as { typecode?: number; multiple?: boolean; content?: unknown } | undefined;
      const parts = (body?.multiple ? body.content : [body?.content]) as Buffer[];
      for (const p of parts) if (Buffer.isBuffer(p)) this.#enqueue(q, amqpMessage.decode(p));
      delivery.update(true, amqpMessage.accepted().described());
      this.#pump(q);
      return;
    }
    const body = msg.body as { typecode?: number; multiple?: boolean; content?: unknown } | undefined;
    if (format === BATCH_FORMAT && body && body.typecode === 0x75) {
      const parts = (body.multiple ? body.content : [body.content]) as Buffer[];
      for (const p of parts) this.#enqueue(q, amqpMessage.decode(p));
    } else {
      this.#enqueue(q, msg);
    }
    delivery.update(true, amqpMessage.accepted().described());
    this.#pump(q);
  }

  #enqueue(q: QueueState, m: Message): void {
    const message = { ...m } as Message & { delivery_count?: number; message_annotations?: Record<string, unknown> };
    if (message.message_id === undefined) message.message_id = randomBytes(16).toString('hex');
    const id = String(message.message_id);
    if (this.duplicateDetectionMs > 0) {
      const now = Date.now();
      const until = q.seen.get(id);
      if (until !== undefined && until > now) {
        this.duplicatesDropped++;
        return;
      }
      q.seen.set(id, now + this.duplicateDetectionMs);
      if (q.seen.size > 100_000) for (const [k, t] of q.seen) if (t <= now) q.seen.delete(k);
    }
    q.ready.push({ seq: ++this.#seq, message, messageId: String(message.message_id), deliveryCount: 0, enqueuedAt: new Date() });
  }

  #pump(q: QueueState): void {
    for (const s of q.senders) {
      while (q.ready.length > 0 && s.sendable() && unclaimedCredit(s) > 0) {
        const m = q.ready.shift() as StoredMessage;
        m.deliveryCount++;
        const tag = randomBytes(16);
        const until = Date.now() + this.lockDurationMs;
        const out = {
          ...m.message,
          delivery_count: m.deliveryCount - 1,
          message_annotations: {
            ...(m.message.message_annotations ?? {}),
            'x-opt-sequence-number': rhea.types.wrap_long(m.seq),
            'x-opt-enqueued-time': m.enqueuedAt,
            'x-opt-locked-until': new Date(until),
            ...(m.deadLetterReason ? { DeadLetterReason: m.deadLetterReason } : {}),
          },
          application_properties: {
            ...(m.message.application_properties ?? {}),
            ...(m.deadLetterReason ? { DeadLetterReason: m.deadLetterReason, DeadLetterErrorDescription: m.deadLetterDescription ?? '' } : {}),
          },
        } as Message;
        const delivery = s.send(out, tag);
        if (q.name.endsWith('/$deadletterqueue')) {
          // Reading the dead-letter queue is inspection here: nothing is locked.
          continue;
        }
        const token = lockTokenHex(tag);
        const timer = setTimeout(() => this.#expire(token), this.lockDurationMs);
        timer.unref();
        this.#locks.set(token, { msg: m, queue: q, delivery, until, timer });
      }
    }
  }

  #expire(token: string): void {
    const l = this.#locks.get(token);
    if (!l) return;
    this.#locks.delete(token);
    this.#requeue(l.queue, l.msg, 'MaxDeliveryCountExceeded', 'lock expired too often');
  }

  #requeue(q: QueueState, m: StoredMessage, reason: string, description: string): void {
    if (m.deliveryCount >= this.maxDeliveryCount) {
      this.#deadLetter(q, m, reason, description);
      return;
    }
    q.ready.push(m);
    this.#pump(q);
  }

  #deadLetter(q: QueueState, m: StoredMessage, reason: string, description: string): void {
    m.deadLetterReason = reason;
    m.deadLetterDescription = description;
    q.dead.push(m);
    const dlq = this.#queue(`${q.name}/$deadletterqueue`);
    dlq.ready.push(m);
    this.#pump(dlq);
  }

  #settle(ctx: EventContext, outcome: 'accepted' | 'rejected' | 'modified' | 'released'): void {
    const delivery = ctx.delivery as Delivery & { tag: Buffer; remote_state?: Record<string, unknown> };
    const token = lockTokenHex(Buffer.from(delivery.tag));
    const l = this.#locks.get(token);
    const state = delivery.remote_state as
      | { error?: { condition?: string; description?: string; info?: Record<string, string> }; undeliverable_here?: boolean }
      | undefined;
    const echo =
      outcome === 'accepted'
        ? amqpMessage.accepted()
        : outcome === 'rejected'
          ? amqpMessage.rejected({})
          : outcome === 'modified'
            ? amqpMessage.modified({ undeliverable_here: state?.undeliverable_here ?? false })
            : amqpMessage.released();
    delivery.update(true, echo.described());
    markDone(delivery);
    if (!l) return;
    clearTimeout(l.timer);
    this.#locks.delete(token);
    if (outcome === 'accepted') {
      l.queue.completed++;
    } else if (outcome === 'rejected') {
      const info = state?.error?.info ?? {};
      this.#deadLetter(l.queue, l.msg, info.DeadLetterReason ?? state?.error?.description ?? 'rejected', info.DeadLetterErrorDescription ?? '');
    } else if (outcome === 'modified' && state?.undeliverable_here) {
      // Deferred: kept aside; not redelivered by this peer.
    } else {
      this.#requeue(l.queue, l.msg, 'MaxDeliveryCountExceeded', 'abandoned too often');
    }
  }

  #reply(replyTo: string | undefined, request: Message, props: Record<string, unknown>, body?: unknown): void {
    const s = replyTo ? this.#replySenders.get(replyTo) : undefined;
    if (!s) return;
    s.send({ correlation_id: request.message_id, application_properties: props, body } as Message);
  }

  #onCbs(msg: Message): void {
    const props = (msg.application_properties ?? {}) as Record<string, unknown>;
    const token = String(msg.body ?? '');
    const ok = props.operation === 'put-token' && this.#verifySas(token);
    if (!ok) this.cbsRejected++;
    this.#reply(msg.reply_to, msg, { 'status-code': ok ? 202 : 401, 'status-description': ok ? 'Accepted' : 'Unauthorized' });
  }

  #verifySas(token: string): boolean {
    const m = /^SharedAccessSignature (.+)$/.exec(token);
    if (!m) return false;
    const fields = new Map<string, string>();
    for (const kv of (m[1] as string).split('&')) {
      const i = kv.indexOf('=');
      fields.set(kv.slice(0, i), kv.slice(i + 1));
    }
    const sr = fields.get('sr');
    const se = fields.get('se');
    const sig = fields.get('sig');
    if (!sr || !se || !sig || fields.get('skn') !== this.keyName) return false;
    if (Number(se) * 1000 < Date.now()) return false;
    const expected = createHmac('sha256', this.key).update(`${sr}\n${se}`).digest('base64');
    const a = Buffer.from(decodeURIComponent(sig));
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #onManagement(queue: string, msg: Message): void {
    const props = (msg.application_properties ?? {}) as Record<string, unknown>;
    const op = String(props.operation ?? '');
    if (op === 'com.microsoft:renew-lock') {
      const body = (msg.body ?? {}) as Record<string, unknown>;
      const tokens = ((body['lock-tokens'] as unknown[]) ?? []).map((t) => uuidToHex(t));
      const expirations: Date[] = [];
      for (const t of tokens) {
        const l = this.#locks.get(t);
        if (!l) {
          this.#reply(msg.reply_to, msg, { statusCode: 410, errorCondition: 'com.microsoft:message-lock-lost', statusDescription: 'lock lost' });
          return;
        }
        l.until = Date.now() + this.lockDurationMs;
        clearTimeout(l.timer);
        l.timer = setTimeout(() => this.#expire(t), this.lockDurationMs);
        l.timer.unref();
        expirations.push(new Date(l.until));
      }
      this.#reply(msg.reply_to, msg, { statusCode: 200 }, { expirations });
      return;
    }
    if (op === 'com.microsoft:peek-message') {
      const q = this.#queue(queue);
      this.#reply(msg.reply_to, msg, q.ready.length ? { statusCode: 200 } : { statusCode: 204 }, {
        messages: q.ready.slice(0, 1).map((m) => ({ message: amqpMessage.encode(m.message) })),
      });
      return;
    }
    if (op === 'com.microsoft:update-disposition') {
      // Settlement through $management (the SDK uses it when the receiving link is gone or busy).
      const body = (msg.body ?? {}) as Record<string, unknown>;
      const status = String(body['disposition-status'] ?? '');
      for (const t of ((body['lock-tokens'] as unknown[]) ?? []).map((x) => uuidToHex(x))) {
        const l = this.#locks.get(t);
        if (!l) {
          this.#reply(msg.reply_to, msg, { statusCode: 410, errorCondition: 'com.microsoft:message-lock-lost', statusDescription: 'lock lost' });
          return;
        }
        clearTimeout(l.timer);
        this.#locks.delete(t);
        // Settle the original transfer too: an unsettled delivery keeps its slot in the session's
        // outgoing window, and after 2,048 of them the link stops delivering.
        const d = l.delivery as Delivery & { settled?: boolean };
        if (!d.settled) {
          const state = status === 'completed' ? amqpMessage.accepted() : status === 'suspended' ? amqpMessage.rejected({}) : amqpMessage.released();
          d.update(true, state.described());
        }
        markDone(d);
        if (status === 'completed') l.queue.completed++;
        else if (status === 'suspended') this.#deadLetter(l.queue, l.msg, String(body['deadletter-reason'] ?? 'suspended'), String(body['deadletter-description'] ?? ''));
        else if (status === 'abandoned') this.#requeue(l.queue, l.msg, 'MaxDeliveryCountExceeded', 'abandoned too often');
      }
      this.#reply(msg.reply_to, msg, { statusCode: 200 }, {});
      return;
    }
    this.#reply(msg.reply_to, msg, { statusCode: 501, statusDescription: `unsupported ${op}` });
  }
}

/**
 * Credit the receiver granted that no transfer waiting in the session has claimed yet. rhea spends
 * credit only when it writes the transfers (next tick), and sendable() stays true until the session
 * buffer (2,048 deliveries) is full: a loop on sendable() alone would lock and encode up to 2,048
 * messages the receiver never asked for (a stall of a few hundred ms with a deep queue).
 */
function unclaimedCredit(s: Sender): number {
  const link = s as unknown as { credit: number; session: { outgoing: { next_delivery_id: number; next_pending_delivery: number } } };
  const waiting = link.session.outgoing.next_delivery_id - link.session.outgoing.next_pending_delivery;
  return link.credit - waiting;
}

/**
 * rhea frees an outgoing delivery's slot in the session window only once it is settled on both
 * ends, and the client (receive-settle-mode second) never sends a final settled disposition after
 * ours: without this, delivery stops after 2,048 messages on one session.
 */
function markDone(d: Delivery): void {
  (d as Delivery & { remote_settled: boolean }).remote_settled = true;
}

/** The SDK reads a delivery tag as a .NET GUID (first three groups little-endian). */
function lockTokenHex(tag: Buffer): string {
  const b = Buffer.from(tag);
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b.toString('hex');
}

/** Lock tokens arrive as AMQP uuids (rhea gives a 16-byte Buffer); delivery tags are the same bytes. */
function uuidToHex(t: unknown): string {
  if (Buffer.isBuffer(t)) return t.toString('hex');
  if (typeof t === 'string') return Buffer.from(t.replace(/-/g, ''), 'hex').toString('hex');
  return '';
}
