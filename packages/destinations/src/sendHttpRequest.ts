import type { ClientRequest, IncomingMessage } from "node:http";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { type AddressPolicy, normalizeHostname, ownEndpointVerdict } from "./addressPolicy.js";
import type { HostLookup } from "./deliveryContext.js";
import type { AttemptFacts } from "./destinationPlugin.js";
import { guardedLookup, RefusedAddressError } from "./guardedLookup.js";
import { parseRetryAfter } from "./parseRetryAfter.js";

/** How much of a response body is read; the rest is never read (the connection is closed). */
export const maxResponseBodyBytes = 16_384;

export interface HttpAttempt {
  /** http: or https:, without userinfo (the config parser guarantees both). */
  readonly url: URL;
  readonly method: string;
  /** Sent as given; Content-Length is added. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly timeoutMs: number;
  readonly policy: AddressPolicy;
  readonly lookup: HostLookup;
  readonly now: () => Date;
}

/**
 * How long a pooled connection may sit idle before it is closed: under the 5 s that Node's HTTP server (and
 * many others) keeps an idle connection open, so that a pooled connection is rarely reused just as the
 * receiver closes it. Node also honours a shorter `Keep-Alive: timeout=N` from the receiver.
 */
export const idleConnectionMs = 4_000;

/**
 * Keep-alive connection pools, one per address policy and resolver. A pooled connection is reused only for
 * the same host and port, and only under the policy (and resolver) whose check let it open: the address it
 * is connected to passed that check at connect time, and a later DNS answer cannot move it. Tests and
 * processes with another policy get pools of their own.
 */
const pools = new WeakMap<AddressPolicy, WeakMap<HostLookup, { readonly http: HttpAgent; readonly https: HttpsAgent }>>();

function poolFor(policy: AddressPolicy, lookup: HostLookup, protocol: string): HttpAgent {
  let byLookup = pools.get(policy);
  if (byLookup === undefined) {
    byLookup = new WeakMap();
    pools.set(policy, byLookup);
  }
  let agents = byLookup.get(lookup);
  if (agents === undefined) {
    const options = { keepAlive: true, timeout: idleConnectionMs };
    agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
    byLookup.set(lookup, agents);
  }
  return protocol === "https:" ? agents.https : agents.http;
}

/** The facts of an HTTP exchange, apart from what was sent (the caller knows that, unredacted). */
export type HttpOutcome = Omit<AttemptFacts, "request">;

/**
 * Sends one request and reports what happened, never rejecting. Redirects are answers, not followed;
 * at most `maxResponseBodyBytes` of the body are read; `timeoutMs` bounds everything from name
 * resolution to the last byte. Connections are kept alive and reused (`poolFor`); every new connection's
 * addresses pass the policy at connect time. A reused connection that fails before any answer (the
 * receiver closed it as it was reused) is retried once on a new connection, as Node's documentation
 * advises: if the receiver had in fact taken the request, it sees it twice, with the same `webhook-id`
 * (deliveries are at least once).
 */
export function sendHttpRequest(attempt: HttpAttempt): Promise<HttpOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const hostname = normalizeHostname(attempt.url.hostname);

  const port = attempt.url.port === "" ? (attempt.url.protocol === "https:" ? 443 : 80) : Number(attempt.url.port);
  // Node does not call `lookup` for an IP literal, so a literal is judged here, before any socket exists.
  if (isIP(hostname) !== 0) {
    const verdict = attempt.policy.allowsHostname(hostname, port)
      ? attempt.policy.neverReachable(hostname, port)
        ? ownEndpointVerdict
        : { allowed: true as const }
      : attempt.policy.checkAddress(hostname, port);
    if (!verdict.allowed) {
      const refused = new RefusedAddressError(hostname, hostname, verdict);
      return Promise.resolve({ failure: "refused_address", message: refused.message, durationMs: elapsed() });
    }
  }

  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let received = 0;

    const settle = (outcome: Omit<HttpOutcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    const settleWithResponse = (res: IncomingMessage, message?: string) => {
      const retryAfterMs = parseRetryAfter(headerValue(res.headers["retry-after"]), attempt.now());
      settle({
        httpStatus: res.statusCode ?? 0,
        ...(message === undefined ? {} : { message }),
        responseHeaders: flattenHeaders(res.headers),
        responseBody: Buffer.concat(chunks).toString("utf8"),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    };

    /** The request under way: the first, or its retry on a new connection. */
    let current: ClientRequest | undefined;
    const start = (agent: HttpAgent | false) => {
      let req: ClientRequest;
      try {
        const send = attempt.url.protocol === "https:" ? httpsRequest : httpRequest;
        req = send({
          protocol: attempt.url.protocol,
          hostname,
          port,
          path: `${attempt.url.pathname}${attempt.url.search}`,
          method: attempt.method,
          headers: { ...attempt.headers, "Content-Length": String(attempt.body.length) },
          agent,
          lookup: guardedLookup(attempt.lookup, attempt.policy, port),
        });
      } catch (error) {
        // Only a bug gets here: the config parser rejects every header Node would refuse.
        settle({ failure: "internal", message: `could not build the request: ${errorDetail(error)}` });
        return;
      }
      current = req;

      req.on("error", (error) => {
        if (response !== undefined) return; // the response's own handlers report a failure while reading the body
        // Only a pooled connection is ever reused, and the retry goes without the pool: one retry at most.
        if (req.reusedSocket && !settled) {
          start(false);
          return;
        }
        if (error instanceof RefusedAddressError) settle({ failure: "refused_address", message: error.message });
        else settle({ failure: "network", message: errorDetail(error) });
      });

      req.on("response", (res) => {
        response = res;
        res.on("data", (chunk: Buffer) => {
          if (settled) return;
          const room = maxResponseBodyBytes - received;
          chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
          received += Math.min(chunk.length, room);
          if (received >= maxResponseBodyBytes) {
            settleWithResponse(res);
            res.destroy();
          }
        });
        res.on("end", () => settleWithResponse(res));
        res.on("error", (error) => settleWithResponse(res, `the response body was cut short: ${errorDetail(error)}`));
        res.on("close", () => settleWithResponse(res, "the connection closed before the response body ended"));
      });

      req.end(attempt.body);
    };

    timer = setTimeout(() => {
      if (response !== undefined) {
        settleWithResponse(response, `timed out after ${attempt.timeoutMs} ms reading the response body; the body is cut short`);
      } else {
        settle({ failure: "timeout", message: `no response within ${attempt.timeoutMs} ms` });
      }
      current?.destroy();
    }, attempt.timeoutMs);

    start(poolFor(attempt.policy, attempt.lookup, attempt.url.protocol));
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

function flattenHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = headerValue(value);
    if (text !== undefined) flat[name] = text;
  }
  return flat;
}

function errorDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
