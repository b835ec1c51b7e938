import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * A local webhook receiver that answers 200 at once (after reading the body) and counts what it gets:
 * every request, distinct `webhook-id`s (a delivery's id, the same on a repeat), and, for bodies whose
 * `resource_id` is `f<request>-<item>` (the end-to-end latency phase), when each item first arrived. It also
 * stands for Slack's `chat.postMessage` in the mapped-delivery phase: it answers `{"ok":true}`, and a request
 * with no `webhook-id` (a Slack message carries no delivery id) counts as a delivery of its own.
 */
export interface Receiver {
  readonly port: number;
  /** Requests received since the last reset. */
  readonly received: number;
  readonly deliveryIds: Set<string>;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  /** `f<request>-<item>` → performance.now() of its first arrival. */
  readonly arrivals: Map<string, number>;
  readonly reset: () => void;
  /** Resolves once `count` distinct deliveries arrived, or false after `timeoutMs`. */
  readonly waitFor: (count: number, timeoutMs: number) => Promise<boolean>;
  readonly close: () => Promise<void>;
}

const tagPattern = /"resource_id":"(f\d+-\d+)"/;

/** Slack's answer to a message it took; a webhook's sender ignores the body. */
const okBody = Buffer.from('{"ok":true}');

/** What the receiver counted since the last reset. */
interface Counts {
  received: number;
  deliveryIds: Set<string>;
  firstAtMs: number;
  lastAtMs: number;
  arrivals: Map<string, number>;
}

/** A `waitFor` under way: resolved once `count` distinct deliveries arrived. */
interface Waiter {
  readonly count: number;
  readonly resolve: (ok: boolean) => void;
}

function noCounts(): Counts {
  return { received: 0, deliveryIds: new Set(), firstAtMs: 0, lastAtMs: 0, arrivals: new Map() };
}

export async function startReceiver(): Promise<Receiver> {
  const counts = noCounts();
  const waiting: { waiter: Waiter | undefined } = { waiter: undefined };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const at = performance.now();
      response.writeHead(200, { "content-type": "application/json", "content-length": String(okBody.length) });
      response.end(okBody);
      count(counts, request, Buffer.concat(chunks), at);
      if (waiting.waiter !== undefined && counts.deliveryIds.size >= waiting.waiter.count) {
        waiting.waiter.resolve(true);
        waiting.waiter = undefined;
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return receiverOver(server, port, counts, waiting);
}

/** Counts one request that arrived at `at`: its delivery id and, for a tagged body, its item's first arrival. */
function count(counts: Counts, request: IncomingMessage, body: Buffer, at: number): void {
  counts.received += 1;
  if (counts.firstAtMs === 0) counts.firstAtMs = at;
  counts.lastAtMs = at;
  const id = request.headers["webhook-id"];
  counts.deliveryIds.add(typeof id === "string" ? id : `request-${counts.received}`);
  const tag = tagPattern.exec(body.toString("utf8"));
  if (tag !== null && !counts.arrivals.has(tag[1] as string)) counts.arrivals.set(tag[1] as string, at);
}

/** The `Receiver` over a listening server and the counts its handler keeps. */
function receiverOver(server: Server, port: number, counts: Counts, waiting: { waiter: Waiter | undefined }): Receiver {
  return {
    port,
    get received() {
      return counts.received;
    },
    get deliveryIds() {
      return counts.deliveryIds;
    },
    get firstAtMs() {
      return counts.firstAtMs;
    },
    get lastAtMs() {
      return counts.lastAtMs;
    },
    get arrivals() {
      return counts.arrivals;
    },
    reset: () => {
      Object.assign(counts, noCounts());
    },
    waitFor: (wanted, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (counts.deliveryIds.size >= wanted) return resolve(true);
        const timer = setTimeout(() => {
          waiting.waiter = undefined;
          resolve(false);
        }, timeoutMs);
        waiting.waiter = {
          count: wanted,
          resolve: (ok) => {
            clearTimeout(timer);
            resolve(ok);
          },
        };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } as Receiver;
}
