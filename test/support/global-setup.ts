// Integration global setup: use REDIS_URL when set, otherwise start a private redis-server from PATH.
// Fails with an install hint when neither is possible. Exposes the URL as TEST_REDIS_URL.
import type { TestProject } from 'vitest/node';
import { REDIS_INSTALL_HINT, redisServerAvailable, startRedisServer, type PrivateRedis } from './redis-server.js';

let server: PrivateRedis | null = null;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    if (!redisServerAvailable()) throw new Error(REDIS_INSTALL_HINT);
    server = await startRedisServer();
    url = server.url;
  }
  project.provide('redisUrl', url);
  process.env.TEST_REDIS_URL = url;
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
