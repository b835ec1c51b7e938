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
  const finished = Array.from({ length: connections }, () => closedLoopConnection(target, counters, nextRequest, () => stopping));
  return {
    counters,
    stop: async () => {
      stopping = true;
      await Promise.all(finished);
    },
  };
}

/** One connection of a closed loop: sends until `stopping()` (or until it closes); resolves once it stopped. */
function closedLoopConnection(target: Target, counters: LoadCounters, nextRequest: () => Buffer, stopping: () => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const connection = new Connection(target, () => {});
    const sendNext = (request: Buffer) => {
      const start = performance.now();
      connection.send(request, (answer) => {
        if (counters.recording) record(counters, answer, performance.now() - start);
        if (stopping() || connection.closed) {
          connection.close();
          resolve();
        } else {
          sendNext(nextRequest());
        }
      });
    };
    sendNext(nextRequest());
  });
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

export interface OpenLoopOptions {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly rampMs: number;
  readonly maxConnections: number;
  readonly slowMs: number;
  /** Called when request `index` (numbered from 0 in `nextRequest` order) is answered, with `performance.now()`. */
  readonly onAnswered?: (index: number, atMs: number, status: number) => void;
}

/**
 * Open loop: request i is due at start + i / rate whatever happened to earlier ones, and its latency is
 * measured from that due time (so a late send, a wait for a free connection or a slow earlier answer all
 * count: no coordinated omission). A due request goes out on an idle connection, else on a new one (up
 * to `maxConnections`), else waits in a backlog. Requests due in the first `rampMs` are not recorded.
 */
export async function runOpenLoop(target: Target, options: OpenLoopOptions, nextRequest: () => Buffer): Promise<OpenLoopResult> {
  const loop = new OpenLoop(target, options, nextRequest);
  await loop.sendAllWhenDue();
  await loop.drained(15_000);
  return loop.finish();
}

/** The state of one `runOpenLoop`: its connections, its backlog and what it counted. */
class OpenLoop {
  private readonly counters = newCounters();
  private readonly interval: number;
  /** When request 0 is due (`performance.now()` time). */
  private readonly start: number;
  /** Requests in the whole run, the ramp included. */
  private readonly total: number;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly backlog: Job[] = [];
  private peakBacklog = 0;
  private peakConnections = 0;
  /** Requests sent or waiting, not yet answered. */
  private outstanding = 0;
  /** Requests made so far (due, and handed to `dispatch`). */
  private scheduled = 0;
  private onDrained: (() => void) | undefined;
  private readonly slow: Array<[number, number]> = [];

  constructor(
    private readonly target: Target,
    private readonly options: OpenLoopOptions,
    private readonly nextRequest: () => Buffer,
  ) {
    this.interval = 1000 / options.ratePerSecond;
    this.start = performance.now() + 50;
    this.total = Math.floor((options.rampMs + options.durationMs) / this.interval);
    for (let i = 0; i < Math.min(8, options.maxConnections); i++) this.idle.push(this.openConnection());
  }

  /** Makes and dispatches each request at its due time; resolves once the last one is dispatched. */
  sendAllWhenDue(): Promise<void> {
    return new Promise<void>((resolve) => {
      const tick = () => {
        this.dispatchDue(performance.now());
        if (this.scheduled < this.total) setTimeout(tick, Math.max(0, this.dueAt(this.scheduled) - performance.now()));
        else resolve();
      };
      setTimeout(tick, Math.max(0, this.start - performance.now()));
    });
  }

  /** Resolves true once every request was answered, or false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.outstanding === 0) return resolve(true);
      this.onDrained = () => resolve(true);
      setTimeout(() => resolve(false), timeoutMs).unref();
    });
  }

  /** Counts the requests still unanswered as failed, closes every connection and reports. */
  finish(): OpenLoopResult {
    const unanswered = this.outstanding;
    this.counters.failed += unanswered;
    for (const connection of this.all) connection.close();
    return {
      counters: this.counters,
      scheduled: this.total - Math.ceil(this.options.rampMs / this.interval),
      unanswered,
      peakConnections: this.peakConnections,
      peakBacklog: this.peakBacklog,
      windowMs: this.options.durationMs,
      slow: this.slow,
    };
  }

  private dueAt(index: number): number {
    return this.start + index * this.interval;
  }

  /** Dispatches every request due by `now`, in order. */
  private dispatchDue(now: number): void {
    while (this.scheduled < this.total && this.dueAt(this.scheduled) <= now) {
      const scheduledAt = this.dueAt(this.scheduled);
      this.outstanding += 1;
      this.dispatch({
        index: this.scheduled,
        scheduledAt,
        request: this.nextRequest(),
        recorded: scheduledAt >= this.start + this.options.rampMs,
        retried: false,
      });
      this.scheduled += 1;
    }
  }

  private openConnection(): Connection {
    const connection = new Connection(this.target, () => this.all.delete(connection));
    this.all.add(connection);
    this.peakConnections = Math.max(this.peakConnections, this.all.size);
    return connection;
  }

  /** Sends `job` on an idle connection, else a new one (up to `maxConnections`), else puts it in the backlog. */
  private dispatch(job: Job): void {
    let connection = this.idle.pop();
    while (connection?.closed) connection = this.idle.pop();
    if (connection === undefined && this.all.size < this.options.maxConnections) connection = this.openConnection();
    if (connection === undefined) {
      this.backlog.push(job);
      this.peakBacklog = Math.max(this.peakBacklog, this.backlog.length);
      return;
    }
    this.send(connection, job);
  }

  private send(connection: Connection, job: Job): void {
    connection.send(job.request, (answer) => this.onAnswer(connection, job, answer));
  }

  /** Records the answer, then gives the connection the backlog's next job, or back to the idle ones. */
  private onAnswer(connection: Connection, job: Job, answer: Answer): void {
    if (answer.retryable && !job.retried) {
      // The server closed an idle keep-alive connection just as we wrote: send again, same due time.
      job.retried = true;
      this.dispatch(job);
      return;
    }
    this.options.onAnswered?.(job.index, performance.now(), answer.status);
    if (job.recorded) this.recordAnswer(job, answer);
    this.outstanding -= 1;
    const next = this.backlog.shift();
    if (next !== undefined && !connection.closed) this.send(connection, next);
    else {
      if (next !== undefined) this.dispatch(next);
      if (!connection.closed) this.idle.push(connection);
    }
    if (this.outstanding === 0 && this.scheduled === this.total) this.onDrained?.();
  }

  /** Counts a recorded job's answer, its latency from its due time, and whether it was slow. */
  private recordAnswer(job: Job, answer: Answer): void {
    const latency = performance.now() - job.scheduledAt;
    record(this.counters, answer, latency);
    if (latency > this.options.slowMs) this.slow.push([job.scheduledAt - this.start - this.options.rampMs, latency]);
  }
}
