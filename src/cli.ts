#!/usr/bin/env node
// voice-worker CLI: one image, one binary, one subcommand per role.
import { isVoiceError, ConfigError } from './domain/errors.js';
import { COMMANDS, type CommandName } from './commands.js';

const USAGE = `voice-worker — real-time voice session worker for Azure Communication Services

Usage: voice-worker <command> [options]

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
  if (!(name in COMMANDS)) {
    process.stderr.write(`voice-worker: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  const cmd = COMMANDS[name as CommandName];
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help);
    return 0;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`voice-worker: ${err.message}\n`);
      process.exit(2);
    }
    const msg = isVoiceError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`voice-worker: ${msg}\n`);
    process.exit(1);
  },
);
