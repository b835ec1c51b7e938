import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * A local webhook receiver that answers 200 at once (after reading the body) and counts what it gets:
 * every request, distinct `webhook-id`s (a delivery's id, the same on a repeat), and, for bodies whose
 * `resource_id` is `f<request>-<item>` (the end-to-end latency phase), when each item first arrived.
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

export async function startReceiver(): Promise<Receiver> {
  let waiter: { count: number; resolve: (ok: boolean) => void } | undefined;
  const state = {
    received: 0,
    deliveryIds: new Set<string>(),
    firstAtMs: 0,
    lastAtMs: 0,
    arrivals: new Map<string, number>(),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const at = performance.now();
      response.writeHead(200, { "content-length": "0" });
      response.end();
      state.received += 1;
      if (state.firstAtMs === 0) state.firstAtMs = at;
      state.lastAtMs = at;
      const id = request.headers["webhook-id"];
      if (typeof id === "string") state.deliveryIds.add(id);
      const tag = tagPattern.exec(Buffer.concat(chunks).toString("utf8"));
      if (tag !== null && !state.arrivals.has(tag[1] as string)) state.arrivals.set(tag[1] as string, at);
      if (waiter !== undefined && state.deliveryIds.size >= waiter.count) {
        waiter.resolve(true);
        waiter = undefined;
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    port,
    get received() {
      return state.received;
    },
    get deliveryIds() {
      return state.deliveryIds;
    },
    get firstAtMs() {
      return state.firstAtMs;
    },
    get lastAtMs() {
      return state.lastAtMs;
    },
    get arrivals() {
      return state.arrivals;
    },
    reset: () => {
      state.received = 0;
      state.deliveryIds = new Set();
      state.firstAtMs = 0;
      state.lastAtMs = 0;
      state.arrivals = new Map();
    },
    waitFor: (count, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (state.deliveryIds.size >= count) return resolve(true);
        const timer = setTimeout(() => {
          waiter = undefined;
          resolve(false);
        }, timeoutMs);
        waiter = {
          count,
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
  return receiver;
}
