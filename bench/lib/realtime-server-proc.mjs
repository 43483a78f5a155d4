// The local realtime server in a process of its own (bench/realtime.mjs): its 50 events a second per
// session do not share the simulator's event loop, whose clock the barge-in figure is read on.
// Prints one JSON line {url} when listening; exits on SIGTERM. Counts of truncates on request: a line
// "stats" on stdin answers one JSON line with the truncate events' audio_end_ms.
import { createInterface } from 'node:readline';
import { startRealtimeServer } from '../../dist/simulator/realtime-server.js';

const rt = await startRealtimeServer();
process.stdout.write(`${JSON.stringify({ url: rt.url })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stats') return;
  const truncates = rt.sessions.flatMap((s) => s.events.filter((e) => e.type === 'conversation.item.truncate').map((e) => Number(e.body.audio_end_ms)));
  process.stdout.write(`${JSON.stringify({ sessions: rt.sessions.length, truncates })}\n`);
});
process.on('SIGTERM', () => void rt.close().then(() => process.exit(0)));
