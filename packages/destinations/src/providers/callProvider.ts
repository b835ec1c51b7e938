import { performance } from "node:perf_hooks";
import { type DeliveryContext, systemLookup } from "../deliveryContext.js";
import type { AttemptFacts } from "../destinationPlugin.js";
import { sendHttpRequest } from "../sendHttpRequest.js";

/** One request to a provider's HTTP API. */
export interface ProviderCall {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly url: string;
  /** Sent as given (with `Content-Type` and `Accept` added for a JSON or form body). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Headers whose values are credentials, replaced by "[redacted]" in the attempt's record. Default: `authorization`. */
  readonly secretHeaders?: readonly string[];
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (OAuth token requests). */
  readonly form?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** How much of the answer is read; default 16 KiB (an attempt's record keeps no more). Catalog reads ask for more. */
  readonly maxBodyBytes?: number;
}

/** What came back: the attempt's facts (with what was sent, redacted) and the body parsed as JSON, if it was JSON. */
export interface ProviderAnswer {
  readonly facts: AttemptFacts;
  readonly json: unknown;
}

/**
 * Sends one request to a provider under the operator's address policy (the same guard as webhooks: a provider
 * host resolving to a private address is refused unless allowed), never rejecting. The URL is built by the
 * plugin from the provider's documented base (or the operator's `apiUrl`).
 */
export async function callProvider(
  call: ProviderCall,
  context: DeliveryContext,
  now: () => Date = () => new Date(),
): Promise<ProviderAnswer> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (!URL.canParse(call.url) || !/^https?:$/.test(new URL(call.url).protocol)) {
    return { facts: { failure: "internal", message: `not an http(s) URL: ${call.url}`, durationMs: elapsed() }, json: undefined };
  }
  const url = new URL(call.url);
  const { body, contentType } = encodeBody(call);
  const headers: Record<string, string> = {
    Accept: "application/json",
    ...(contentType ? { "Content-Type": contentType } : {}),
    ...call.headers,
  };
  const outcome = await sendHttpRequest({
    url,
    method: call.method,
    headers,
    body,
    timeoutMs: call.timeoutMs,
    policy: context.addressPolicy,
    lookup: context.lookup ?? systemLookup,
    now,
    ...(call.maxBodyBytes === undefined ? {} : { maxBodyBytes: call.maxBodyBytes }),
  });
  const facts: AttemptFacts = {
    ...outcome,
    durationMs: elapsed(),
    request: {
      method: call.method,
      url: redactUrl(url),
      headers: redactHeaders(headers, call.secretHeaders ?? ["authorization"], body),
      bodyBytes: body.length,
    },
  };
  return { facts, json: parseJson(outcome.responseBody, outcome.responseHeaders?.["content-type"]) };
}

function encodeBody(call: ProviderCall): { body: Buffer; contentType?: string } {
  if (call.json !== undefined) return { body: Buffer.from(JSON.stringify(call.json), "utf8"), contentType: "application/json" };
  if (call.form !== undefined)
    return { body: Buffer.from(new URLSearchParams(call.form).toString(), "utf8"), contentType: "application/x-www-form-urlencoded" };
  return { body: Buffer.alloc(0) };
}

function redactHeaders(headers: Readonly<Record<string, string>>, secret: readonly string[], body: Buffer): Record<string, string> {
  const hidden = new Set(secret.map((name) => name.toLowerCase()));
  const logged: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) logged[name] = hidden.has(name.toLowerCase()) ? "[redacted]" : value;
  logged["Content-Length"] = String(body.length);
  return logged;
}

/** The URL as recorded: query parameters that carry credentials (`api_key`, `access_token`...) redacted. */
function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const name of [...copy.searchParams.keys()]) {
    if (/key|token|secret|password/i.test(name)) copy.searchParams.set(name, "[redacted]");
  }
  copy.username = "";
  copy.password = "";
  return copy.href;
}

function parseJson(body: string | undefined, contentType: string | undefined): unknown {
  if (body === undefined || body === "") return undefined;
  if (contentType !== undefined && !/json/i.test(contentType)) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** A plugin's failure before anything was sent (a missing input, a template that failed): `mapping` is final, `internal` is retried. */
export function failedBeforeSending(failure: "mapping" | "internal", message: string): AttemptFacts {
  return { failure, message, durationMs: 0 };
}

/** Runs a plugin's attempt so that it never rejects: a thrown error (a bug) becomes an `internal` failure. */
export async function guardAttempt(attempt: () => Promise<AttemptFacts>): Promise<AttemptFacts> {
  const started = performance.now();
  try {
    return await attempt();
  } catch (error) {
    return {
      failure: "internal",
      message: `the attempt failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/**
 * A provider read for the API (`loadActionData`, `loadFields`) that got no usable answer. The server answers it
 * 502 with `message`, which names the provider and what it answered, never a credential.
 */
export class ProviderReadError extends Error {
  override readonly name = "ProviderReadError";
}

/** Catalog reads may be larger than an attempt's record keeps. */
export const maxCatalogBodyBytes = 4 * 1024 * 1024;

/**
 * A read for the API: the answer's JSON when it is a 2xx with a JSON body, else a `ProviderReadError` naming
 * `provider` and what went wrong (the status and the provider's own error text, cut short).
 */
export async function readProvider(provider: string, call: Omit<ProviderCall, "maxBodyBytes">, context: DeliveryContext): Promise<unknown> {
  const { facts, json } = await callProvider({ ...call, maxBodyBytes: maxCatalogBodyBytes }, context);
  if (facts.httpStatus === undefined) throw new ProviderReadError(`${provider} could not be reached: ${facts.message ?? facts.failure}`);
  if (facts.httpStatus < 200 || facts.httpStatus >= 300) {
    throw new ProviderReadError(`${provider} answered ${facts.httpStatus}: ${(facts.responseBody ?? "").slice(0, 300)}`);
  }
  if (json === undefined) throw new ProviderReadError(`${provider} answered ${facts.httpStatus} without a JSON body`);
  return json;
}
