// Minimal WebSocket client wire format for the load driver: the HTTP upgrade, pre-masked client text
// frames (built once, written many times), and a tiny parser that counts server frames.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** A masked client text frame carrying `text` (RFC 6455 §5.2). */
export function clientTextFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headLen + 4 + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headLen);
  for (let i = 0; i < n; i++) frame[headLen + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Opens a TCP connection and completes the WebSocket upgrade. Resolves with the socket. */
export function openWs(host, port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, host);
    sock.setNoDelay(true);
    let head = Buffer.alloc(0);
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!status.includes(' 101 ')) {
        sock.destroy();
        reject(new Error(`upgrade refused: ${status}`));
        return;
      }
      resolve({ sock, rest: head.subarray(end + 4) });
    };
    sock.on('data', onData);
    sock.once('error', reject);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${extra}\r\n`,
    );
  });
}

/** Counts unmasked server frames; calls onText(firstBytes) with the first 24 bytes of each text frame. */
export function frameCounter(onText) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let off = 0;
    for (;;) {
      if (buf.length - off < 2) break;
      const b1 = buf[off + 1] & 0x7f;
      let len = b1;
      let hl = 2;
      if (b1 === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hl = 4;
      } else if (b1 === 127) {
        if (buf.length - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        hl = 10;
      }
      if (buf.length - off < hl + len) break;
      if ((buf[off] & 0x0f) === 1) onText(buf.subarray(off + hl, off + hl + Math.min(len, 24)));
      off += hl + len;
    }
    buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  };
}
