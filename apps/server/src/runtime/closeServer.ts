import type { IncomingMessage, Server, ServerResponse } from "node:http";

/**
 * Stops `server` gracefully: it accepts no new connections, idle keep-alive connections are closed at
 * once, and each busy one as soon as its response is sent (`server.close()` alone would leave those open
 * until the keep-alive timeout). A request that arrives on a kept-alive connection meanwhile is still
 * served, answered with `Connection: close`. Connections still busy after `graceMs` are cut. Resolves
 * when all are closed.
 */
export async function closeServer(server: Server, graceMs: number, onGraceExpired: () => void = () => {}): Promise<void> {
  // Ahead of the app's listener, so the header is set before any handler can send its response.
  const lastOnConnection = (_req: IncomingMessage, res: ServerResponse) => res.setHeader("Connection", "close");
  server.prependListener("request", lastOnConnection);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A connection whose response was already under way when we began is idle once it is sent.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const grace = setTimeout(() => {
    onGraceExpired();
    server.closeAllConnections();
  }, graceMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(grace);
    server.off("request", lastOnConnection);
  }
}
