// Does a Redis answer at this URL? One PING over a raw socket with a short deadline, so the demo can
// choose between Redis and in-process state without a client library retrying in the background.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** True when something at `url` replies to PING in RESP (+PONG, or an error such as -NOAUTH). */
export function probeRedis(url: string, timeoutMs = 500): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port) || 6379;
  return new Promise((resolve) => {
    let done = false;
    const onConnect = () => socket.write('PING\r\n');
    const socket: Socket = u.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host }, onConnect) : netConnect({ host, port }, onConnect);
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => finish(chunk[0] === 0x2b /* + */ || chunk[0] === 0x2d /* - */));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
