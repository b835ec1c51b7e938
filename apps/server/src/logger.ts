import { type DestinationStream, pino } from "pino";

/**
 * The logging surface the server needs; structured fields first, then a message. A pino logger is one;
 * so is any object with these three methods (tests capture lines with one).
 */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  readonly level?: "debug" | "info" | "warn" | "error";
  /** Where the JSON lines go. Default stdout, written synchronously (nothing is lost on `process.exit`). */
  readonly destination?: DestinationStream;
}

/**
 * One JSON line per entry: `{"level":"info","time":"<ISO 8601>","pid":…,"hostname":…,"msg":…,…fields}`;
 * an `err` field is serialized with its type, message and stack. Callers pass only the fields they mean
 * to log: never a request's headers or a secret (log `encryptionKeyConfigured: true` instead).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
