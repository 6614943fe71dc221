import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/** The gateway's structured logger: JSON lines, one child per component with bindings such as `callId`. */
export type Logger = PinoLogger;

/**
 * Secrets never reach the log: tokens, TURN credentials, ICE passwords and SIP
 * digest headers are replaced wherever they appear under these paths.
 */
const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'credential',
  '*.credential',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
];

export function createLogger(options: { level?: LevelWithSilent; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'switchboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that drops everything, for tests and benchmarks that do not read logs. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
