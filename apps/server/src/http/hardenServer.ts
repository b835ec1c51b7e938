import { createServer, type RequestListener, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

export interface HttpServerOptions {
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/**
 * The HTTP server Switchyard listens with (not yet listening): `app` behind `hardenServer`'s rules, its
 * timeouts checked every second (Node checks them every 30 s by default, so a 10 s header timeout could
 * let a connection sit for up to 40 s), and a request without a `Host` header left to the app, which
 * answers it in the error envelope instead of Node's bare 400.
 */
export function createHttpServer(app: RequestListener, options: HttpServerOptions): Server {
  const server = createServer({ connectionsCheckingInterval: 1000, requireHostHeader: false }, app);
  hardenServer(server, options);
  return server;
}

/**
 * What the HTTP server itself does before Express sees a request:
 * - a request line, headers or framing Node's parser refuses (oversized headers, conflicting
 *   Content-Length, a bad chunk, a NUL in a header) is answered in the error envelope, not Node's bare status;
 * - a client that announces a body and stops sending is cut off after `requestTimeoutMs`
 *   (Node's default is five minutes), headers after at most 10 s;
 * - an idle kept-alive connection is closed after `keepAliveTimeoutMs` (Node's default is 5 s). A client
 *   that sends on a connection at the moment the server closes it gets a reset, not an answer; a gateway
 *   or client pool whose own idle timeout is shorter (60 s is common) always closes first, so never meets it.
 */
export function hardenServer(server: Server, options: HttpServerOptions): void {
  server.requestTimeout = options.requestTimeoutMs;
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.headersTimeout = Math.min(10_000, options.requestTimeoutMs);
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, name, message] =
      error.code === "HPE_HEADER_OVERFLOW"
        ? ([431, "RequestHeaderFieldsTooLarge", "The request headers are too large."] as const)
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? ([408, "RequestTimeout", "The request did not arrive in time."] as const)
          : ([400, "BadRequest", "The request is not valid HTTP."] as const);
    const body = JSON.stringify({ message: STATUS_CODES[status], error: { name, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
