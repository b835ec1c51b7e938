/**
 * Whether an error means "the database cannot serve us right now" (answered 503, retryable) rather than
 * a bug (500). Covers connection failures, timeouts and PostgreSQL's own "not now" SQLSTATEs.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (/^08/.test(code)) return true; // connection_exception class
    if (["57P01", "57P02", "57P03", "53300", "57014", "40001", "40P01", "55P03"].includes(code)) return true;
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ENOTFOUND", "EAI_AGAIN"].includes(code)) {
      return true;
    }
  }
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|connection timeout/i.test(
    error.message,
  );
}
