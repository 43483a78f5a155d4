// A trivial worker for the simulator capacity bench, run as a child process so it does not share the
// simulator's event loop: validates Event Grid, answers every call with the real SDK (media streaming,
// no bidirectional audio), accepts callbacks and media sockets and counts messages. Reports over IPC.
import { createServer } from 'node:http';
import { CallAutomationClient } from '@azure/communication-call-automation';
import { WebSocketServer } from 'ws';

const [connectionString] = process.argv.slice(2);
const client = new CallAutomationClient(connectionString, { allowInsecureConnection: true });
let messages = 0;
let sockets = 0;
let answerErrors = 0;
const seen = new Set();
let base = '';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url.startsWith('/api/incoming-call')) {
      const events = JSON.parse(Buffer.concat(chunks).toString());
      if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ validationResponse: events[0].data.validationCode }));
      }
      for (const e of events) {
        const ctx = e.data.incomingCallContext;
        if (seen.has(ctx)) continue;
        seen.add(ctx);
        const id = seen.size;
        const ws = `${base.replace('http', 'ws')}/ws/media?callId=${id}`;
        client
          .answerCall(ctx, `${base}/api/callbacks?callId=${id}`, {
            mediaStreamingOptions: { transportUrl: ws, transportType: 'websocket', contentType: 'audio', audioChannelType: 'mixed', startMediaStreaming: true, enableBidirectional: false, audioFormat: 'pcm16KMono' },
          })
          .catch(() => answerErrors++);
      }
    }
    res.writeHead(200);
    res.end();
  });
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (s) => {
  sockets++;
  s.on('error', () => undefined);
  s.on('message', () => messages++);
});
server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  process.send({ url: `${base}/api/incoming-call` });
});
process.on('message', (m) => {
  if (m === 'stats') process.send({ messages, sockets, answerErrors });
  if (m === 'exit') process.exit(0);
});
