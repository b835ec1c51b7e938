import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";

/** One request a receiver saw, with the exact bytes of its body. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

/** How the receiver answers its n-th request (0-based); "hang" never answers, "reset" drops the connection. */
export type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string } | "hang" | "reset";

export interface Receiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  readonly close: () => Promise<void>;
}

/**
 * A stand-in for a customer's webhook endpoint on loopback: records every request and answers from a
 * script (the last answer repeats). The only fake in these tests: destinations are third parties.
 */
export async function startReceiver(script: readonly Answer[] | ((index: number) => Answer) = [{ status: 200 }]): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const answerFor = (index: number): Answer =>
    typeof script === "function" ? script(index) : (script[Math.min(index, script.length - 1)] ?? { status: 200 });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const index = requests.length;
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      const answer = answerFor(index);
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      if (answer === "reset") {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: async () => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `predicate` holds, failing after `timeoutMs` with `what` in the message. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
