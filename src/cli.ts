#!/usr/bin/env node
// voice-worker CLI: one image, one binary, one subcommand per role.
import { readFileSync } from 'node:fs';
import { isVoiceError, ConfigError } from './domain/errors.js';
import { COMMANDS, type CommandName } from './commands.js';

/** The package version (package.json sits next to dist/ and src/ alike). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A node:util parseArgs rejection (unknown option, missing value, stray positional). */
function isUsageError(err: unknown): err is Error & { code: string } {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

const USAGE = `voice-worker — real-time voice session worker for Azure Communication Services

Usage: voice-worker <command> [options]
       voice-worker --version

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run 'voice-worker <command> --help' for the options of one command.
Configuration comes from environment variables; see .env.example.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`voice-worker ${version()}\n`);
    return 0;
  }
  if (!(name in COMMANDS)) {
    process.stderr.write(`voice-worker: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  const cmd = COMMANDS[name as CommandName];
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    process.stderr.write(`voice-worker ${name}: ${err.message}\n\n${cmd.help}`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      // Every problem, one per line, each naming its variable; no stack trace.
      process.stderr.write(`voice-worker: ${err.message}\n`);
      process.exit(2);
    }
    const msg = isVoiceError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`voice-worker: ${msg}\n`);
    process.exit(1);
  },
);
