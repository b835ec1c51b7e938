/** The logging surface the server needs; structured fields first, then a message. */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** One JSON line per entry on stdout/stderr. */
export const jsonLogger: Logger = {
  info: (fields, message) => process.stdout.write(`${line("info", fields, message)}\n`),
  warn: (fields, message) => process.stderr.write(`${line("warn", fields, message)}\n`),
  error: (fields, message) => process.stderr.write(`${line("error", fields, message)}\n`),
};

function line(level: string, fields: object, message: string): string {
  return JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
  );
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
