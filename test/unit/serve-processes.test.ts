// The pure parts of `serve --processes`: how many processes (flag, cgroup quota, memory backend),
// the WORKER_ID and spool directory of each.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { containerCpus, processSpoolDir, processWorkerId, resolveProcesses } from '../../src/wiring/processes.js';
import { ConfigError } from '../../src/domain/errors.js';

const files = (m: Record<string, string>) => (p: string) => {
  if (p in m) return m[p]!;
  throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
};

describe('containerCpus', () => {
  const cores = availableParallelism();
  it('caps the cores by a cgroup v2 quota, rounding a fraction up', () => {
    expect(containerCpus(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }))).toBe(1);
    expect(containerCpus(files({ '/sys/fs/cgroup/cpu.max': '100000 100000\n' }))).toBe(1);
    expect(containerCpus(files({ '/sys/fs/cgroup/cpu.max': `${150000 * cores} 100000\n` }))).toBe(cores);
  });
  it('uses every core when cgroup v2 says max, or when there is no cgroup file', () => {
    expect(containerCpus(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBe(cores);
    expect(containerCpus(files({}))).toBe(cores);
  });
  it('reads a cgroup v1 quota (-1: none)', () => {
    expect(containerCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(1);
    expect(containerCpus(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(cores);
  });
});

describe('resolveProcesses', () => {
  it('defaults to the container CPUs in production with Redis; to one process in development or with in-memory state', () => {
    expect(resolveProcesses(undefined, 'redis', 'production', () => 4)).toBe(4);
    expect(resolveProcesses(undefined, 'redis', 'development', () => 4)).toBe(1);
    expect(resolveProcesses(undefined, 'memory', 'production', () => 4)).toBe(1);
  });
  it('takes the flag', () => {
    expect(resolveProcesses('2', 'redis', 'development', () => 4)).toBe(2);
    expect(resolveProcesses('3', 'redis', 'production', () => 4)).toBe(3);
    expect(resolveProcesses('1', 'memory', 'production', () => 4)).toBe(1);
  });
  it('refuses a bad count, and more than one process on in-memory state, naming the flag', () => {
    for (const bad of ['0', '-1', 'two', '1.5', '', '1000']) expect(() => resolveProcesses(bad, 'redis', 'production')).toThrow(/--processes: expected a whole number/);
    expect(() => resolveProcesses('2', 'memory', 'development')).toThrow(ConfigError);
    expect(() => resolveProcesses('2', 'memory', 'development')).toThrow(/--processes: 2 processes need shared state \(REDIS_URL/);
  });
});

describe('processWorkerId / processSpoolDir', () => {
  it('gives each process and each restart its own id within the 64 characters WORKER_ID allows', () => {
    expect(processWorkerId('w-7f3a', 1, 0)).toBe('w-7f3a-p1');
    expect(processWorkerId('w-7f3a', 2, 3)).toBe('w-7f3a-p2r3');
    const long = processWorkerId('x'.repeat(64), 12, 7);
    expect(long).toHaveLength(64);
    expect(long.endsWith('-p12r7')).toBe(true);
  });
  it('keeps SPOOL_DIR for process 1 and a subdirectory for the others', () => {
    expect(processSpoolDir('/var/spool/vw', 1)).toBe('/var/spool/vw');
    expect(processSpoolDir('/var/spool/vw', 3)).toBe('/var/spool/vw/p3');
  });
});
