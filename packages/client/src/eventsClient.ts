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

  constructor(options: EventsClientOptions) {
    this.#options = options;
    this.#client = createClient(createConfig({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) }));
  }

  /** Emits one event; resolves to the stored event, rejects with `SwitchyardApiError`. */
  async emit(event: EventInput): Promise<Event> {
    const result = await createEvent({
      client: this.#client,
      body: this.#withWorkspace(event),
      headers: await this.#authHeaders(),
    });
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
      const chunk = events.slice(start, start + maxEventsPerRequest).map((e) => this.#withWorkspace(e));
      records.push(...(await this.#sendChunk(chunk, start)));
    }
    const errorCount = records.filter((r) => r.type === "error").length;
    return { count: records.length, error_count: errorCount, records };
  }

  async #sendChunk(chunk: EventInput[], offset: number): Promise<BulkRecord[]> {
    let failure: SwitchyardApiError;
    try {
      const result = await createEventsBulk({ client: this.#client, body: chunk, headers: await this.#authHeaders() });
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

  #withWorkspace(event: EventInput): EventInput {
    const workspace = this.#options.workspace;
    return workspace === undefined || event.workspace !== undefined ? event : { ...event, workspace };
  }

  async #authHeaders(): Promise<Record<string, string>> {
    if ("publishableKey" in this.#options) return { "X-Meshes-Publishable-Key": this.#options.publishableKey };
    return { Authorization: `Bearer ${await mintMachineToken(this.#options.machine)}` };
  }
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
