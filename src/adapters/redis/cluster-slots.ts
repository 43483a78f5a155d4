// Redis Cluster hash slots (CRC16/XMODEM of the hash tag, mod 16384), to group keys by the node that
// serves them: a pipeline in ioredis Cluster must stay within one node.
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-client.js';

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(s: string): number {
  const b = Buffer.from(s, 'utf8');
  let crc = 0;
  for (const byte of b) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

export function hashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % 16384;
  }
  return crc16(key) % 16384;
}

/** Groups items by the node serving their key (one group for a single-node client). */
export function groupByNode<T>(client: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!(client instanceof Cluster)) return items.length > 0 ? [[...items]] : [];
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const slot = hashSlot(keyOf(item));
    const node = client.slots[slot]?.[0] ?? `slot-${slot}`;
    const g = groups.get(node);
    if (g) g.push(item);
    else groups.set(node, [item]);
  }
  return [...groups.values()];
}
