import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands.js';
import { SIMULATE_OPTIONS, targetUrl } from '../../src/simulator/simulate-command.js';
import { SCENARIO_NAMES } from '../../src/simulator/scenarios.js';

describe('voice-worker simulate --help', () => {
  it('documents every option and every scenario', () => {
    const help = COMMANDS.simulate.help;
    for (const name of Object.keys(SIMULATE_OPTIONS)) expect(help, name).toContain(`--${name}`);
    for (const s of SCENARIO_NAMES) expect(help).toContain(s);
    expect(help).toContain('ACS_CONNECTION_STRING');
  });

  it('refuses bad option values with exit code 2 before starting anything', async () => {
    expect(await COMMANDS.simulate.run(['--calls', '0'])).toBe(2);
    expect(await COMMANDS.simulate.run(['--format', 'pcm8k'])).toBe(2);
    expect(await COMMANDS.simulate.run(['--duplicate-rate', '2'])).toBe(2);
  });

  it('completes a bare target URL with the Event Grid path', () => {
    expect(targetUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/api/incoming-call');
    expect(targetUrl('http://w:1/custom')).toBe('http://w:1/custom');
  });
});
