import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { freePort } from "@switchyard/db";

/** One request a receiver got, with the exact bytes of its body. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `Date.now()` when the body had arrived. */
  readonly at: number;
}

/**
 * How a receiver answers one request: a status (with headers and body, after `delayMs`; default at once, empty
 * body), "hang" (never answers, until the caller gives up or the receiver closes), or "reset" (drops the connection).
 */
export type Answer =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string; readonly delayMs?: number }
  | "hang"
  | "reset";

/** A script: answers in order (the last one repeats), or a function of the request and its 0-based index. */
export type Script = readonly Answer[] | ((request: ReceivedRequest, index: number) => Answer);

export interface ReceiverOptions {
  /** Refuse connections (nothing listens on its port yet) until `up()`. Default false. */
  readonly down?: boolean;
  /** Called once an answer with a status was written (not for "hang", "reset", or a caller gone before the delay ended). */
  readonly onAnswered?: (request: ReceivedRequest, status: number) => void;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook`. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Requests that arrived and were not answered yet (or are held: "hang"). */
  readonly inFlight: () => number;
  /** The most requests open at once so far. */
  readonly peakInFlight: () => number;
  /** Starts listening, for a receiver started `down`. */
  readonly up: () => Promise<void>;
  /** Drops every connection (hanging ones too) and stops listening. */
  readonly close: () => Promise<void>;
}

/**
 * A stand-in for a customer's webhook endpoint on loopback: records every request and answers it as the
 * script says. The only fake the tests use: destinations are third parties.
 */
export async function startReceiver(script: Script = [{ status: 200 }], options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const open = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let peakInFlight = 0;
  const answerFor = (request: ReceivedRequest, index: number): Answer =>
    typeof script === "function" ? script(request, index) : (script[Math.min(index, script.length - 1)] ?? { status: 200 });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const index = requests.length;
      requests.push(request);
      open.add(res);
      peakInFlight = Math.max(peakInFlight, open.size);
      res.once("close", () => open.delete(res));
      const answer = answerFor(request, index);
      if (answer === "hang") return;
      if (answer === "reset") {
        req.socket.destroy();
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? "");
        options.onAnswered?.(request, answer.status);
      };
      if (answer.delayMs === undefined || answer.delayMs <= 0) {
        send();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, answer.delayMs);
      timers.add(timer);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  // A receiver started down must come up on the port its URL already names.
  const port = options.down === true ? await freePort() : 0;
  const listen = () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  if (options.down !== true) await listen();
  const url = `http://127.0.0.1:${port === 0 ? (server.address() as AddressInfo).port : port}/hook`;

  return {
    url,
    requests,
    inFlight: () => open.size,
    peakInFlight: () => peakInFlight,
    up: listen,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
