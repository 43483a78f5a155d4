// N console clients in a process of their own (for bench/console.mjs): each signs in on one of the
// given replicas, opens /console/stream and behaves like the page — reloads the active-calls view
// every 10 s and the summary + campaigns 500 ms after a call ended, revalidating with If-None-Match.
// For every `turn` event it records receive time − publish time (`at`, the worker's clock; same
// machine). After --seconds it prints one JSON line and exits.
//   node bench/lib/console-clients.mjs --urls=http://a,http://b --clients=20 --token=T --seconds=30
import { request } from 'node:http';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const URLS = arg('urls', '').split(',').filter(Boolean);
const CLIENTS = Number(arg('clients', '20'));
const TOKEN = arg('token', '');
const SECONDS = Number(arg('seconds', '30'));

const latencies = [];
const counts = { events: 0, turns: 0, views: 0, notModified: 0, reconnects: 0, errors: 0 };

async function login(base) {
  const res = await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token: TOKEN }) });
  if (!res.ok) throw new Error(`login ${res.status}`);
  return /vw_console=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
}

function client(base, cookie) {
  const etags = new Map();
  const get = async (path) => {
    const headers = { cookie: `vw_console=${cookie}` };
    const tag = etags.get(path);
    if (tag) headers['if-none-match'] = tag;
    try {
      const res = await fetch(`${base}${path}`, { headers });
      counts.views++;
      if (res.status === 304) counts.notModified++;
      else if (res.ok) etags.set(path, res.headers.get('etag'));
      await res.arrayBuffer();
    } catch {
      counts.errors++;
    }
  };
  let summaryTimer = null;
  let lastId = null;
  const open = () => {
    const headers = { cookie: `vw_console=${cookie}`, accept: 'text/event-stream' };
    if (lastId) headers['last-event-id'] = lastId;
    const req = request(`${base}/console/stream`, { headers }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          const id = /^id: (.*)$/m.exec(frame)?.[1];
          if (id) lastId = id;
          if (!data) continue;
          const now = Date.now();
          const ev = JSON.parse(data);
          counts.events++;
          if (ev.type === 'turn') {
            counts.turns++;
            latencies.push(now - ev.at);
          } else if (ev.type === 'ended') {
            clearTimeout(summaryTimer);
            summaryTimer = setTimeout(() => void get('/console/api/summary').then(() => get('/console/api/campaigns')), 500);
          }
        }
      });
      res.on('end', () => {
        counts.reconnects++;
        setTimeout(open, 1000);
      });
    });
    req.on('error', () => counts.errors++);
    req.end();
  };
  open();
  void get('/console/api/calls');
  void get('/console/api/summary');
  setInterval(() => void get('/console/api/calls'), 10_000);
}

for (let i = 0; i < CLIENTS; i++) {
  const base = URLS[i % URLS.length];
  client(base, await login(base));
}
setTimeout(() => {
  const v = latencies.slice().sort((a, b) => a - b);
  const q = (p) => (v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : null);
  process.stdout.write(`${JSON.stringify({ clients: CLIENTS, seconds: SECONDS, ...counts, turnLatencyMs: { n: v.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: v.at(-1) ?? null } })}\n`);
  process.exit(0);
}, SECONDS * 1000);
