// Regenerates docs/console.png: two replicas (built worker, private redis-server), a handful of
// simulated calls answered by both, the console signed in on the first with one transcript open.
//   npm run build && node scripts/console-screenshot.mjs [out.png]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config.js';
import { silentLogger } from '../dist/logger.js';
import { startSimulator } from '../dist/simulator/simulator.js';
import { createWorker } from '../dist/wiring/create-worker.js';

const OUT = process.argv[2] ?? 'docs/console.png';
const TOKEN = 'screenshot-operator';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const redisPort = await freePort();
const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await sleep(300);
const sim = await startSimulator();
const spool = mkdtempSync(join(tmpdir(), 'console-shot-'));
const workers = [];
for (const id of ['w-eastus-a1', 'w-eastus-b2']) {
  const port = await freePort();
  const config = loadConfig({
    ...sim.workerEnv(),
    APP_NAME: 'shot',
    APP_ENV: 'demo',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    WORKER_ID: id,
    API_TOKEN: TOKEN,
    LOG_LEVEL: 'silent',
    SPOOL_DIR: join(spool, id),
  });
  const w = await createWorker(config, silentLogger(), { defaultMetrics: false });
  await w.start();
  workers.push(w);
}
const [a, b] = workers;
// A few finished calls first (today's summary), then live ones on both replicas.
await sim.runCalls({ target: `${a.config.publicBaseUrl}/api/incoming-call`, calls: 3, concurrency: 3, scenario: 'hangup-mid-reply,qa', durationS: 0 });
const live = [
  sim.runCalls({ target: `${a.config.publicBaseUrl}/api/incoming-call`, calls: 3, concurrency: 3, scenario: 'qa+qa', durationS: 60 }),
  sim.runCalls({ target: `${b.config.publicBaseUrl}/api/incoming-call`, calls: 3, concurrency: 3, scenario: 'qa+qa,barge-in+qa', durationS: 60, rampS: 3 }),
];
const profile = mkdtempSync(join(tmpdir(), 'console-shot-profile-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: FLAGS, headless: true, viewport: { width: 1280, height: 760 } });
const page = await context.newPage();
await page.goto(`${a.config.publicBaseUrl}/console/login`);
await page.fill('#token', TOKEN);
await page.click('#signin');
await page.waitForSelector('#stream-state.live');
await sleep(9000);
const rows = page.locator('#calls tbody tr');
await rows.nth(Math.min(3, (await rows.count()) - 1)).click();
await sleep(6000);
await page.screenshot({ path: OUT });
console.log(`wrote ${OUT}`);
await context.close();
await sim.close();
await Promise.allSettled(live);
for (const w of workers) await w.stop('done').catch(() => undefined);
redis.kill('SIGKILL');
rmSync(profile, { recursive: true, force: true });
rmSync(spool, { recursive: true, force: true });
process.exit(0);
