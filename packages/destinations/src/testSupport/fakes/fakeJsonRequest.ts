import type { IncomingMessage } from "node:http";

/** A request a fake received, as the email fakes record it: its body parsed as JSON. */
export interface FakeJsonRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as JSON; undefined when empty or not JSON. */
  readonly json: unknown;
}

export function fakeJsonRequest(req: IncomingMessage, body: Buffer): FakeJsonRequest {
  return { method: req.method ?? "", path: req.url ?? "", headers: req.headers, json: parseJson(body) };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** A request body that is a JSON object, or undefined. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  const value = parseJson(body);
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
