// The root logger, built once from config. Secrets, tokens, connection strings and phone numbers are
// redacted here so no call site has to remember to.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino removes before serialising (censored as "[redacted]"). */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-ms-call-correlation-id"]',
  '*.authorization',
  '*.Authorization',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessKey',
  '*.accessKey',
  'connectionString',
  '*.connectionString',
  'password',
  '*.password',
  'pin',
  '*.pin',
  'pinDigest',
  'pinHash',
  '*.pinHash',
  '*.pinDigest',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'incomingCallContext',
  '*.incomingCallContext',
];

// E.164-like numbers (+ and 7-15 digits, optionally with a 4: raw-id prefix), and query secrets.
const PHONE = /(\+|\b4:\+?)\d[\d\s-]{5,17}\d/g;
const QUERY_SECRET = /([?&](?:secret|sig|token|code|accesskey|key)=)[^&\s"]+/gi;
const CONN_KEY = /((?:accesskey|SharedAccessKey|AccountKey)=)[^;\s"]+/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

/** Masks phone numbers and inline secrets in a string. Keeps the last two digits for correlation. */
export function scrub(text: string): string {
  return text
    .replace(PHONE, (m) => `${m.startsWith('4:') ? '4:' : ''}+***${m.replace(/\D/g, '').slice(-2)}`)
    .replace(QUERY_SECRET, '$1[redacted]')
    .replace(CONN_KEY, '$1[redacted]')
    .replace(BEARER, '$1[redacted]');
}

function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

export interface LoggerConfig {
  readonly level: string;
  readonly name?: string;
}

/** Builds the root logger. `destination` is for tests (capture output). */
export function createLogger(cfg: LoggerConfig, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: cfg.level,
    name: cfg.name ?? 'voice-worker',
    base: { pid: process.pid },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    serializers: {
      err: (e: unknown) => {
        const s = pino.stdSerializers.err(e as Error);
        return { ...s, message: scrub(s.message ?? ''), stack: s.stack ? scrub(s.stack) : s.stack };
      },
    },
    formatters: {
      log: (obj) => scrubDeep(obj, 0) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (typeof a === 'string') args[i] = scrub(a);
        }
        method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
