import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** How one request ended: the status (0 when the connection failed), and the body of a non-2xx answer. */
interface Answer {
  readonly status: number;
  readonly errorBody?: string;
  /** The connection closed before a byte of the answer came: the request may be sent again. */
  readonly retryable?: boolean;
}

const headEnd = Buffer.from("\r\n\r\n");
const lastChunk = Buffer.from("\r\n0\r\n\r\n");

/**
 * One keep-alive HTTP/1.1 connection with one request in flight, written by hand on node:net: node:http's
 * client costs several times more CPU per request, and the load generator shares the 2 cores with what it
 * measures. Reads only what framing needs (status, Content-Length or chunked) and the body of errors.
 */
class Connection {
  private readonly socket: Socket;
  private head: Buffer | undefined;
  private remaining = -1;
  private chunked = false;
  private chunkTail: Buffer = Buffer.alloc(0);
  private status = 0;
  private errorChunks: Buffer[] = [];
  private done: ((answer: Answer) => void) | undefined;
  private receivedAny = false;
  closed = false;

  constructor(target: Target, onClose: () => void) {
    this.socket = connect({ host: target.host, port: target.port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
      onClose();
      this.finish({ status: 0, errorBody: "the connection closed", retryable: !this.receivedAny });
    });
  }

  send(request: Buffer, done: (answer: Answer) => void): void {
    if (this.done !== undefined) throw new Error("a request is already in flight on this connection");
    this.done = done;
    this.head = undefined;
    this.remaining = -1;
    this.chunked = false;
    this.receivedAny = false;
    this.errorChunks = [];
    if (this.closed) {
      queueMicrotask(() => this.finish({ status: 0, errorBody: "the connection closed", retryable: true }));
      return;
    }
    this.socket.write(request);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.receivedAny = true;
    let body = chunk;
    if (this.remaining < 0 && !this.chunked) {
      this.head = this.head === undefined ? chunk : Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf(headEnd);
      if (end === -1) return;
      const headText = this.head.toString("latin1", 0, end);
      this.status = Number(headText.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
      body = this.head.subarray(end + 4);
      this.head = undefined;
      if (length !== null) {
        this.remaining = Number(length[1]);
      } else if (/\r\ntransfer-encoding:\s*chunked/i.test(headText)) {
        this.chunked = true;
        this.chunkTail = Buffer.from("\r\n");
      } else {
        this.remaining = 0;
      }
    }
    if (this.status >= 300) this.errorChunks.push(body);
    if (this.chunked) {
      // One response in flight and JSON bodies carry no raw CR/LF: the terminating chunk ends the answer.
      this.chunkTail = Buffer.concat([this.chunkTail, body]).subarray(-lastChunk.length);
      if (this.chunkTail.equals(lastChunk)) this.complete();
      return;
    }
    this.remaining -= body.length;
    if (this.remaining <= 0) this.complete();
  }

  private complete(): void {
    this.remaining = -1;
    this.chunked = false;
    const errorBody = this.status >= 300 ? Buffer.concat(this.errorChunks).toString("utf8").slice(0, 500) : undefined;
    this.finish(errorBody === undefined ? { status: this.status } : { status: this.status, errorBody });
  }

  private finish(answer: Answer): void {
    const done = this.done;
    this.done = undefined;
    done?.(answer);
  }
}

/** What a load run saw while recording. */
export interface LoadCounters {
  recording: boolean;
  /** Requests answered 201 (all 100 events stored). */
  ok: number;
  /** Requests answered otherwise, or not at all. */
  failed: number;
  readonly statuses: Map<number, number>;
  firstError: string | undefined;
  /** Latency of each recorded answer, in ms. */
  readonly latenciesMs: number[];
}

function newCounters(): LoadCounters {
  return { recording: false, ok: 0, failed: 0, statuses: new Map(), firstError: undefined, latenciesMs: [] };
}

function record(counters: LoadCounters, answer: Answer, latencyMs: number): void {
  counters.statuses.set(answer.status, (counters.statuses.get(answer.status) ?? 0) + 1);
  counters.latenciesMs.push(latencyMs);
  if (answer.status === 201) {
    counters.ok += 1;
  } else {
    counters.failed += 1;
    counters.firstError ??= `${answer.status}: ${answer.errorBody ?? ""}`;
  }
}

export interface ClosedLoop {
  /** Set `recording` to count answers; answers arriving while it is false are not counted. */
  readonly counters: LoadCounters;
  /** Stops sending and resolves when every connection's last request was answered (or failed). */
  readonly stop: () => Promise<void>;
}

/** `connections` connections, each sending its next request as soon as the previous one is answered. */
export function startClosedLoop(target: Target, connections: number, nextRequest: () => Buffer): ClosedLoop {
  const counters = newCounters();
  let stopping = false;
  const finished: Promise<void>[] = [];
  for (let i = 0; i < connections; i++) {
    finished.push(
      new Promise<void>((resolve) => {
        const connection = new Connection(target, () => {});
        const sendNext = (request: Buffer) => {
          const start = performance.now();
          connection.send(request, (answer) => {
            if (counters.recording) record(counters, answer, performance.now() - start);
            if (stopping || connection.closed) {
              connection.close();
              resolve();
            } else {
              sendNext(nextRequest());
            }
          });
        };
        sendNext(nextRequest());
      }),
    );
  }
  return {
    counters,
    stop: async () => {
      stopping = true;
      await Promise.all(finished);
    },
  };
}

export interface OpenLoopResult {
  readonly counters: LoadCounters;
  /** Requests scheduled inside the recorded window. */
  readonly scheduled: number;
  /** Recorded requests still unanswered when the drain timeout ran out (counted as failed too). */
  readonly unanswered: number;
  readonly peakConnections: number;
  readonly peakBacklog: number;
  /** The recorded window, in ms. */
  readonly windowMs: number;
  /** Recorded requests slower than `slowMs`: when each was due (ms into the window) and its latency. */
  readonly slow: ReadonlyArray<readonly [number, number]>;
}

interface Job {
  /** The request's number in this run, from 0 (the order `nextRequest` was called in). */
  readonly index: number;
  readonly scheduledAt: number;
  readonly request: Buffer;
  readonly recorded: boolean;
  retried: boolean;
}

/**
 * Open loop: request i is due at start + i / rate whatever happened to earlier ones, and its latency is
 * measured from that due time (so a late send, a wait for a free connection or a slow earlier answer all
 * count: no coordinated omission). A due request goes out on an idle connection, else on a new one (up
 * to `maxConnections`), else waits in a backlog. Requests due in the first `rampMs` are not recorded.
 */
export async function runOpenLoop(
  target: Target,
  options: {
    readonly ratePerSecond: number;
    readonly durationMs: number;
    readonly rampMs: number;
    readonly maxConnections: number;
    readonly slowMs: number;
    /** Called when request `index` (numbered from 0 in `nextRequest` order) is answered, with `performance.now()`. */
    readonly onAnswered?: (index: number, atMs: number, status: number) => void;
  },
  nextRequest: () => Buffer,
): Promise<OpenLoopResult> {
  const counters = newCounters();
  const interval = 1000 / options.ratePerSecond;
  const start = performance.now() + 50;
  const total = Math.floor((options.rampMs + options.durationMs) / interval);
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  const backlog: Job[] = [];
  let peakBacklog = 0;
  let peakConnections = 0;
  let outstanding = 0;
  let scheduled = 0;
  let onDrained: (() => void) | undefined;
  const slow: Array<[number, number]> = [];

  const openConnection = () => {
    const connection = new Connection(target, () => all.delete(connection));
    all.add(connection);
    peakConnections = Math.max(peakConnections, all.size);
    return connection;
  };
  const dispatch = (job: Job) => {
    let connection = idle.pop();
    while (connection?.closed) connection = idle.pop();
    if (connection === undefined && all.size < options.maxConnections) connection = openConnection();
    if (connection === undefined) {
      backlog.push(job);
      peakBacklog = Math.max(peakBacklog, backlog.length);
      return;
    }
    send(connection, job);
  };
  const send = (connection: Connection, job: Job) => {
    connection.send(job.request, (answer) => {
      if (answer.retryable && !job.retried) {
        // The server closed an idle keep-alive connection just as we wrote: send again, same due time.
        job.retried = true;
        dispatch(job);
        return;
      }
      options.onAnswered?.(job.index, performance.now(), answer.status);
      if (job.recorded) {
        const latency = performance.now() - job.scheduledAt;
        record(counters, answer, latency);
        if (latency > options.slowMs) slow.push([job.scheduledAt - start - options.rampMs, latency]);
      }
      outstanding -= 1;
      const next = backlog.shift();
      if (next !== undefined && !connection.closed) send(connection, next);
      else {
        if (next !== undefined) dispatch(next);
        if (!connection.closed) idle.push(connection);
      }
      if (outstanding === 0 && scheduled === total) onDrained?.();
    });
  };
  for (let i = 0; i < Math.min(8, options.maxConnections); i++) idle.push(openConnection());

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (scheduled < total && start + scheduled * interval <= now) {
        const scheduledAt = start + scheduled * interval;
        outstanding += 1;
        dispatch({
          index: scheduled,
          scheduledAt,
          request: nextRequest(),
          recorded: scheduledAt >= start + options.rampMs,
          retried: false,
        });
        scheduled += 1;
      }
      if (scheduled < total) setTimeout(tick, Math.max(0, start + scheduled * interval - performance.now()));
      else resolve();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  const drained = new Promise<boolean>((resolve) => {
    if (outstanding === 0) return resolve(true);
    onDrained = () => resolve(true);
    setTimeout(() => resolve(false), 15_000).unref();
  });
  await drained;
  const unanswered = outstanding;
  counters.failed += unanswered;
  for (const connection of all) connection.close();
  return {
    counters,
    scheduled: total - Math.ceil(options.rampMs / interval),
    unanswered,
    peakConnections,
    peakBacklog,
    windowMs: options.durationMs,
    slow,
  };
}
