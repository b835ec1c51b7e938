import { createServer, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { freePort } from "./freePort.js";

/** How a receiver answers one request: a status (after `delayMs`), no answer at all, or a dropped connection. */
export type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly delayMs?: number } | "hang" | "reset";

/** One webhook a receiver got. */
export interface ReceivedWebhook {
  /** The Standard Webhooks id: the same for every attempt at one delivery. */
  readonly webhookId: string;
  /** The event's id (the wrapped body's `uuid`). */
  readonly eventId: string;
  /** How many requests with this webhook-id came before this one. */
  readonly repeat: number;
  /** `Date.now()` when the body had arrived. */
  readonly at: number;
}

export interface Receiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Requests that arrived and were not answered yet (or are held: "hang"). */
  readonly inFlight: () => number;
  /** The most requests open at once so far. */
  readonly peakInFlight: () => number;
  /** Distinct webhook-ids seen. */
  readonly deliveries: () => number;
  /** Requests beyond the first for a webhook-id: what a receiver drops by webhook-id. */
  readonly duplicates: () => number;
  /** Requests for a webhook-id this receiver had already answered with a 2xx (retries after failures are not counted). */
  readonly repeatsAfterSuccess: () => number;
  /** Starts listening, for a receiver started `down`. */
  readonly up: () => Promise<void>;
  readonly close: () => Promise<void>;
}

export interface ReceiverOptions {
  /** Refuse connections (nothing listens on its port yet) until `up()`. Default false. */
  readonly down?: boolean;
}

/**
 * A customer's webhook endpoint on loopback, answering each request as `answer` says. The only fake in
 * these scenarios: destinations are third parties.
 */
export async function startReceiver(answer: (webhook: ReceivedWebhook) => Answer, options: ReceiverOptions = {}): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const seen = new Map<string, number>();
  const succeeded = new Set<string>();
  let repeatsAfterSuccess = 0;
  let peakInFlight = 0;
  const open = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const webhookId = String(req.headers["webhook-id"] ?? "");
      let eventId = "";
      try {
        eventId = String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { uuid?: unknown }).uuid ?? "");
      } catch {
        // Not a wrapped webhook body; counted by webhook-id only.
      }
      const repeat = seen.get(webhookId) ?? 0;
      if (succeeded.has(webhookId)) repeatsAfterSuccess += 1;
      seen.set(webhookId, repeat + 1);
      const webhook: ReceivedWebhook = { webhookId, eventId, repeat, at: Date.now() };
      received.push(webhook);
      open.add(res);
      peakInFlight = Math.max(peakInFlight, open.size);
      res.once("close", () => open.delete(res));
      const reply = answer(webhook);
      if (reply === "hang") return;
      if (reply === "reset") {
        req.socket.destroy();
        return;
      }
      const send = () => {
        timers.delete(timer);
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers);
        res.end("ok");
        if (reply.status >= 200 && reply.status < 300) succeeded.add(webhookId);
      };
      const timer = setTimeout(send, reply.delayMs ?? 0);
      timers.add(timer);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  const port = await freePort();
  const listen = () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  if (!options.down) await listen();

  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    inFlight: () => open.size,
    peakInFlight: () => peakInFlight,
    deliveries: () => seen.size,
    duplicates: () => received.length - seen.size,
    repeatsAfterSuccess: () => repeatsAfterSuccess,
    up: listen,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
