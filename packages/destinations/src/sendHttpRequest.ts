import type { ClientRequest, IncomingMessage } from "node:http";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { type AddressPolicy, connectVerdict, normalizeHostname } from "./addressPolicy.js";
import { connectPort } from "./connectPort.js";
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
  /** How much of the answer's body is read. Default `maxResponseBodyBytes`; a catalog read (lists, fields) needs more. */
  readonly maxBodyBytes?: number;
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
  const port = connectPort(attempt.url);
  const refused = refusedLiteral(attempt.policy, hostname, port);
  if (refused !== undefined) {
    return Promise.resolve({ failure: "refused_address", message: refused.message, durationMs: elapsed() });
  }
  return new Promise((resolve) => {
    new Exchange(attempt, hostname, port, (outcome) => resolve({ ...outcome, durationMs: elapsed() })).begin();
  });
}

/**
 * The refusal of a host that is an IP literal the policy forbids on `port`. Node does not call `lookup`
 * for an IP literal, so a literal is judged here, before any socket exists.
 */
function refusedLiteral(policy: AddressPolicy, hostname: string, port: number): RefusedAddressError | undefined {
  if (isIP(hostname) === 0) return undefined;
  const verdict = connectVerdict(policy, hostname, hostname, port);
  return verdict.allowed ? undefined : new RefusedAddressError(hostname, hostname, verdict);
}

/** An exchange's outcome before its duration is added. */
type Settlement = Omit<HttpOutcome, "durationMs">;

/**
 * One request under way and what came back of it. It settles exactly once (with the answer, however much
 * of its body was read, or with a failure), and ignores whatever happens after that.
 */
class Exchange {
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  /** The answer, once its head arrived: from then on, failures are the body's. */
  private response: IncomingMessage | undefined;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  /** The request under way: the first, or its retry on a new connection. */
  private current: ClientRequest | undefined;

  constructor(
    private readonly attempt: HttpAttempt,
    private readonly hostname: string,
    private readonly port: number,
    private readonly report: (outcome: Settlement) => void,
  ) {}

  /** Starts the `timeoutMs` clock, then sends the request on a pooled connection. */
  begin(): void {
    this.timer = setTimeout(() => this.timeOut(), this.attempt.timeoutMs);
    this.send(poolFor(this.attempt.policy, this.attempt.lookup, this.attempt.url.protocol));
  }

  private settle(outcome: Settlement): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.report(outcome);
  }

  /** Settles with the answer and the body read so far; `message` says why the body may be incomplete. */
  private settleWithResponse(res: IncomingMessage, message?: string): void {
    const retryAfterMs = parseRetryAfter(headerValue(res.headers["retry-after"]), this.attempt.now());
    this.settle({
      httpStatus: res.statusCode ?? 0,
      ...(message === undefined ? {} : { message }),
      responseHeaders: flattenHeaders(res.headers),
      responseBody: Buffer.concat(this.chunks).toString("utf8"),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  /** Sends the request through `agent`; `false` is a new connection outside the pool. */
  private send(agent: HttpAgent | false): void {
    const req = this.buildRequest(agent);
    if (req === undefined) return;
    this.current = req;
    req.on("error", (error) => this.onRequestError(req, error));
    req.on("response", (res) => this.onResponse(res));
    req.end(this.attempt.body);
  }

  private buildRequest(agent: HttpAgent | false): ClientRequest | undefined {
    const { url, method, headers, body, lookup, policy } = this.attempt;
    try {
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      return send({
        protocol: url.protocol,
        hostname: this.hostname,
        port: this.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: { ...headers, "Content-Length": String(body.length) },
        agent,
        lookup: guardedLookup(lookup, policy, this.port),
      });
    } catch (error) {
      // Only a bug gets here: the config parser rejects every header Node would refuse.
      this.settle({ failure: "internal", message: `could not build the request: ${errorDetail(error)}` });
      return undefined;
    }
  }

  /** A failure before any answer: a reused connection's is retried once on a new one; any other is the outcome. */
  private onRequestError(req: ClientRequest, error: Error): void {
    if (this.response !== undefined) return; // the response's own handlers report a failure while reading the body
    // Only a pooled connection is ever reused, and the retry goes without the pool: one retry at most.
    if (req.reusedSocket && !this.settled) {
      this.send(false);
      return;
    }
    if (error instanceof RefusedAddressError) this.settle({ failure: "refused_address", message: error.message });
    else this.settle({ failure: "network", message: errorDetail(error) });
  }

  private onResponse(res: IncomingMessage): void {
    this.response = res;
    res.on("data", (chunk: Buffer) => this.onBodyChunk(res, chunk));
    res.on("end", () => this.settleWithResponse(res));
    res.on("error", (error) => this.settleWithResponse(res, `the response body was cut short: ${errorDetail(error)}`));
    res.on("close", () => this.settleWithResponse(res, "the connection closed before the response body ended"));
  }

  /** Keeps the body up to `maxResponseBodyBytes`; once that much arrived, settles and closes the connection. */
  private onBodyChunk(res: IncomingMessage, chunk: Buffer): void {
    if (this.settled) return;
    const limit = this.attempt.maxBodyBytes ?? maxResponseBodyBytes;
    const room = limit - this.received;
    this.chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    this.received += Math.min(chunk.length, room);
    if (this.received >= limit) {
      this.settleWithResponse(res);
      res.destroy();
    }
  }

  /** `timeoutMs` ran out: keeps an answer already begun (its body cut short), else reports a timeout. */
  private timeOut(): void {
    const { timeoutMs } = this.attempt;
    if (this.response !== undefined) {
      this.settleWithResponse(this.response, `timed out after ${timeoutMs} ms reading the response body; the body is cut short`);
    } else {
      this.settle({ failure: "timeout", message: `no response within ${timeoutMs} ms` });
    }
    this.current?.destroy();
  }
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
