import { type Client, createClient, createConfig } from "./gen/client/index.js";
import { createEvent, createEventsBulk } from "./gen/sdk.gen.js";
import type { BulkErrorRecord, BulkRecord, Error as ErrorEnvelope, Event, EventInput } from "./gen/types.gen.js";
import { type MachineCredentials, mintMachineToken } from "./machineToken.js";

/** Most events the server takes in one bulk request. */
export const maxEventsPerRequest = 100;

interface CommonOptions {
  /** The server's origin, e.g. `http://localhost:3000`. */
  readonly baseUrl: string;
  /**
   * Workspace filled into events that name none. Required in practice with machine credentials,
   * whose events must name their workspace; optional with a publishable key. Default: none.
   */
  readonly workspace?: string;
  /** The fetch to use. Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** When and how often a failed request is sent again; see `RetryOptions`. */
  readonly retry?: RetryOptions;
}

/**
 * Retries cover network errors, 429 and 5xx; other answers are final. Every event carries an idempotency
 * key (one is assigned when it has none), so a retry of a request that did reach the server returns the
 * original events marked `duplicate` instead of storing them twice.
 */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 5; 1 turns retrying off. */
  readonly attempts?: number;
  /** Base of the exponential backoff, in ms: attempt n waits a random time up to base × 2^n. Default 250. */
  readonly baseDelayMs?: number;
  /** Longest wait between attempts, in ms, `Retry-After` included. Default 30000. */
  readonly maxDelayMs?: number;
}

export type EventsClientOptions =
  | (CommonOptions & { readonly publishableKey: string })
  | (CommonOptions & { readonly machine: MachineCredentials });

/** A whole request failed: the server answered with an error envelope, or did not answer at all. */
export class SwitchyardApiError extends globalThis.Error {
  override readonly name = "SwitchyardApiError";
  constructor(
    /** The HTTP status; undefined when no response arrived (network failure). */
    readonly status: number | undefined,
    /** The error envelope's `error`, or a synthesized one for a network failure. */
    readonly error: ErrorEnvelope["error"],
    /** The envelope's `message` (the HTTP reason phrase), or "Network Error" when nothing answered. */
    readonly reason: string = status === undefined ? "Network Error" : "Error",
  ) {
    super(`${status ?? "network error"}: ${error.name}: ${error.message}`);
  }
}

export interface EmitBatchResult {
  readonly count: number;
  readonly error_count: number;
  /** `records[i]` answers `events[i]` and carries `index: i`, across however many requests were sent. */
  readonly records: BulkRecord[];
}

/**
 * Emits events to Switchyard, authenticated by a publishable key (browser-safe) or by machine
 * credentials (server-side; a fresh 30 s JWT is minted for every request). Uses only `fetch`.
 */
export class EventsClient {
  readonly #client: Client;
  readonly #options: EventsClientOptions;
  readonly #retry: Required<RetryOptions>;

  constructor(options: EventsClientOptions) {
    this.#options = options;
    this.#retry = { attempts: 5, baseDelayMs: 250, maxDelayMs: 30_000, ...options.retry };
    this.#client = createClient(createConfig({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) }));
  }

  /** Emits one event; resolves to the stored event, rejects with `SwitchyardApiError`. */
  async emit(event: EventInput): Promise<Event> {
    const body = this.#prepare(event);
    const result = await this.#withRetries(async () => createEvent({ client: this.#client, body, headers: await this.#authHeaders() }));
    if (result.data) return result.data.event;
    throw toApiError(result.response?.status, result.error);
  }

  /**
   * Emits any number of events, in requests of at most 100 sent one after another. Never rejects for a
   * failed request: its items come back as error records (the request's error), so every input has an answer.
   */
  async emitBatch(events: readonly EventInput[]): Promise<EmitBatchResult> {
    const records: BulkRecord[] = [];
    for (let start = 0; start < events.length; start += maxEventsPerRequest) {
      const chunk = events.slice(start, start + maxEventsPerRequest).map((e) => this.#prepare(e));
      records.push(...(await this.#sendChunk(chunk, start)));
    }
    const errorCount = records.filter((r) => r.type === "error").length;
    return { count: records.length, error_count: errorCount, records };
  }

  async #sendChunk(chunk: EventInput[], offset: number): Promise<BulkRecord[]> {
    let failure: SwitchyardApiError;
    try {
      const result = await this.#withRetries(async () =>
        createEventsBulk({ client: this.#client, body: chunk, headers: await this.#authHeaders() }),
      );
      if (result.data) return result.data.records.map((r) => ({ ...r, index: r.index + offset }));
      failure = toApiError(result.response?.status, result.error);
    } catch (error) {
      failure = toApiError(undefined, error);
    }
    return chunk.map(
      (_, i): BulkRecord =>
        ({
          type: "error",
          index: offset + i,
          message: failure.reason,
          error: failure.error,
        }) satisfies BulkErrorRecord,
    );
  }

  /** Fills in the default workspace and an idempotency key, so that retries of this event are safe. */
  #prepare(event: EventInput): EventInput {
    const workspace = event.workspace ?? this.#options.workspace;
    return {
      ...event,
      ...(workspace === undefined ? {} : { workspace }),
      idempotency_key: event.idempotency_key ?? crypto.randomUUID(),
    };
  }

  /** Sends until the answer is final or the attempts run out; a thrown network error counts as retryable. */
  async #withRetries<R extends { response?: Response | undefined }>(send: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      let result: R | undefined;
      let failure: unknown;
      try {
        result = await send();
      } catch (error) {
        failure = error;
      }
      const status = result?.response?.status;
      const retryable = result === undefined || status === undefined || status === 429 || status >= 500;
      if (!retryable || attempt >= this.#retry.attempts) {
        if (result === undefined) throw failure;
        return result;
      }
      await sleep(this.#delayBefore(attempt, result?.response));
    }
  }

  /** Full-jitter exponential backoff; a `Retry-After` (seconds) is honoured, within `maxDelayMs`. */
  #delayBefore(attempt: number, response: Response | undefined): number {
    const retryAfter = Number(response?.headers.get("retry-after"));
    if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, this.#retry.maxDelayMs);
    return Math.random() * Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempt);
  }

  async #authHeaders(): Promise<Record<string, string>> {
    if ("publishableKey" in this.#options) return { "X-Meshes-Publishable-Key": this.#options.publishableKey };
    return { Authorization: `Bearer ${await mintMachineToken(this.#options.machine)}` };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toApiError(status: number | undefined, error: unknown): SwitchyardApiError {
  if (isEnvelope(error)) return new SwitchyardApiError(status, error.error, error.message);
  const message = error instanceof globalThis.Error ? error.message : String(error);
  return new SwitchyardApiError(status, { name: status === undefined ? "NetworkError" : "UnexpectedResponse", message });
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  const error = (value as ErrorEnvelope | null)?.error;
  return typeof error?.name === "string" && typeof error.message === "string";
}
