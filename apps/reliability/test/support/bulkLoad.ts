import { Agent, request } from "node:http";
import { atSteadyRate } from "./atSteadyRate.js";

/** One bulk request's fate: its number (its events carry it as `payload.r`), when it was due, its answer and latency. */
export interface BulkAnswer {
  readonly r: number;
  readonly dueAt: number;
  readonly status: number | "no answer";
  /** From the time it was due to the end of its answer: waiting for a free socket counts too. */
  readonly ms: number;
  /** Sent on a connection opened for it (none of the agent's kept-alive connections was free). */
  readonly newConnection: boolean;
  /** Why there was no answer: the error's code (`ECONNRESET`, `timeout`, …). */
  readonly failure?: string;
}

export interface BulkTarget {
  readonly port: number;
  readonly publishableKey: string;
  /** Events per request. */
  readonly size: number;
}

/**
 * Sends `POST /api/v1/events/bulk` requests over keep-alive connections. Request `r` holds `size` events with
 * idempotency keys `r<r>-<i>` and `payload.r = r`, so the database can be asked what each request stored.
 */
export class BulkLoad {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  readonly #target: BulkTarget;
  readonly #template: string;
  #next = 0;

  constructor(target: BulkTarget) {
    this.#target = target;
    const payload = { r: "__R__", customer: { email: "ada@example.com", plan: "pro", seats: 12 }, note: "x".repeat(120) };
    this.#template = JSON.stringify(
      Array.from({ length: target.size }, (_, i) => ({ event: "order.placed", payload: { ...payload, i }, idempotency_key: `__R__-${i}` })),
    );
  }

  /** Sends one request now; resolves with its answer (never rejects). `dueAt` defaults to now. */
  send(dueAt = performance.now(), timeoutMs = 30_000): Promise<BulkAnswer> {
    const r = this.#next++;
    const body = Buffer.from(this.#template.replaceAll('"__R__"', String(r)).replaceAll("__R__", `r${r}`));
    return new Promise((resolve) => {
      let settled = false;
      const settle = (status: number | "no answer", error?: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        const answer = { r, dueAt, status, ms: performance.now() - dueAt, newConnection: !req.reusedSocket };
        resolve(error === undefined ? answer : { ...answer, failure: error.code ?? error.message });
      };
      const req = request(
        {
          host: "127.0.0.1",
          port: this.#target.port,
          method: "POST",
          path: "/api/v1/events/bulk",
          agent: this.#agent,
          headers: {
            "Content-Type": "application/json",
            "Content-Length": body.length,
            "X-Meshes-Publishable-Key": this.#target.publishableKey,
          },
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          res.once("end", () => settle(res.statusCode ?? 0));
          res.once("error", (error) => settle("no answer", error));
        },
      );
      req.once("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "timeout" })));
      req.once("error", (error) => settle("no answer", error));
      req.end(body);
    });
  }

  /** `connections` requests in flight at all times for `ms`: the throughput the server sustains. */
  async closedLoop(connections: number, ms: number): Promise<BulkAnswer[]> {
    const answers: BulkAnswer[] = [];
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) answers.push(await this.send());
      }),
    );
    return answers;
  }

  /**
   * `ratePerSecond` requests a second for `ms`, each sent when due whatever happened to earlier ones (open
   * loop: a slow server does not slow the offered load). Resolves once every request was answered or timed out.
   */
  openLoop(ratePerSecond: number, ms: number, timeoutMs = 30_000): Promise<BulkAnswer[]> {
    return atSteadyRate(ratePerSecond, ms, (_n, dueAt) => this.send(dueAt, timeoutMs), { clock: () => performance.now() });
  }

  close(): void {
    this.#agent.destroy();
  }
}
