import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { sleep } from "@switchyard/testing";
import { type Answer, toAnswer } from "./ingestionOracle.js";

// Clients that send what fetch will not: any method token, and raw bytes on a socket (framing that lies).

/** No request may take longer; a hang fails the property instead of the whole run. */
const requestTimeoutMs = 10_000;

/** node:http, which (unlike fetch) sends any method token. */
export async function rawHttp(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
    const req = httpRequest(`${baseUrl}${path}`, { method, headers: { ...headers, ...length }, timeout: requestTimeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(toAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What a raw connection got: every byte the server sent, whether the server ended it, and when it closed. */
export interface RawConnectionResult {
  readonly data: Buffer;
  readonly closedByServer: boolean;
  /** Milliseconds from opening the connection to its close. */
  readonly closedAfterMs: number;
}

/**
 * A raw TCP connection to `baseUrl`'s port, for the caller to write to; destroyed after `timeoutMs` if it is
 * still open. `done` resolves once it is closed, however; it never rejects, so a test never hangs on it.
 */
export function rawConnection(baseUrl: string, timeoutMs: number): { socket: Socket; done: Promise<RawConnectionResult> } {
  const socket = connect(Number(new URL(baseUrl).port), "127.0.0.1");
  const started = performance.now();
  const received: Buffer[] = [];
  let closedByServer = false;
  const done = new Promise<RawConnectionResult>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("end", () => {
      closedByServer = true;
      socket.destroy();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(received), closedByServer, closedAfterMs: performance.now() - started });
    });
  });
  return { socket, done };
}

/**
 * Writes `chunks` to a fresh connection to `baseUrl`'s port (pausing `pauseMs` between them), optionally
 * half-closes, and collects every response until the server closes or `timeoutMs` passes.
 */
export async function rawExchange(
  baseUrl: string,
  chunks: ReadonlyArray<string | Buffer>,
  options: { pauseMs?: number; endAfterWrite?: boolean; timeoutMs?: number } = {},
): Promise<{ responses: RawResponse[]; closedByServer: boolean }> {
  const { pauseMs = 0, endAfterWrite = false, timeoutMs = 1_500 } = options;
  const { socket, done } = rawConnection(baseUrl, timeoutMs);
  socket.on("connect", async () => {
    for (const [i, chunk] of chunks.entries()) {
      // The pause is what is under test: a body that arrives in pieces, slowly.
      if (i > 0 && pauseMs > 0) await sleep(pauseMs);
      if (socket.destroyed) return;
      socket.write(chunk);
    }
    if (endAfterWrite) socket.end();
  });
  const { data, closedByServer } = await done;
  return { responses: parseResponses(data), closedByServer };
}

function parseResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = data;
  while (rest.length > 0) {
    const headerEnd = rest.indexOf("\r\n\r\n");
    if (headerEnd < 0) break;
    const [statusLine = "", ...lines] = rest.subarray(0, headerEnd).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    const bodyStart = headerEnd + 4;
    responses.push({
      status: Number(statusLine.split(" ")[1]),
      headers,
      body: rest.subarray(bodyStart, bodyStart + length).toString("utf8"),
    });
    rest = rest.subarray(bodyStart + length);
  }
  return responses;
}
