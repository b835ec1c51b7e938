/**
 * (b0), the floor: a stand-in server that does only the per-request work no Switchyard can skip, on bare
 * `node:http`, so that the bench can show how far any server of this shape can get on the machine it runs on.
 *
 * Per `POST /api/v1/events/bulk` it reads and parses the body, checks every item with the server's own
 * validator (compiled from the spec's `EventInput`, with the configured limits), gives each a time-ordered
 * id, stores the batch with the server's own group-committing writer and ingest statement (idempotency
 * claims, routing counts) on a pool of the server's size, and answers the server's 201/207 body. It leaves
 * out everything else the server does per request: Express and its router, the body parser's checks,
 * express-openapi-validator, authentication (a database lookup of the key), request ids, the access log and
 * metrics, CORS, load shedding, deadlines and rate limiting. Every row goes to one workspace (`FLOOR_WORKSPACE`)
 * as `FLOOR_CREATED_BY`.
 *
 * Not a server to run: it answers nothing but that one route and trusts every caller. Run by the bench as
 * `node dist/floorServer.js` with the server's environment; logs `switchyard listening` with its port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  assembleBulkResult,
  createEventInputValidator,
  type ItemOutcome,
  type ValidateEventInput,
  type ValidEventInput,
} from "@switchyard/event-intake";
import { type Config, type NewEventRow, parseConfig, uuidv7 } from "@switchyard/server";
import type pg from "pg";
import { serverDist } from "./switchyardServer.js";

interface Inserted {
  readonly createdAt: Date;
  readonly stored: ReadonlyMap<string, string>;
}

/** The server's own modules the floor reuses (not part of its public exports: checked, as for (a')). */
interface ServerModules {
  readonly openDatabase: (options: object) => { pool: pg.Pool; close: () => Promise<void> };
  readonly createEventWriter: (pool: pg.Pool, options: object) => { write: (rows: readonly NewEventRow[]) => Promise<Inserted> };
  readonly loadSpec: () => Promise<unknown>;
  readonly eventInputSchema: (spec: unknown) => object;
  readonly eventResourceOf: (row: NewEventRow, status: string, createdAtIso: string) => object;
}

async function serverModules(): Promise<ServerModules> {
  const load = async (path: string) => (await import(pathToFileURL(join(serverDist, path)).href)) as Record<string, unknown>;
  const modules = {
    ...((await import("@switchyard/db")) as Record<string, unknown>),
    ...(await load("ingest/eventWriter.js")),
    ...(await load("http/openApiSpec.js")),
    ...(await load("ingest/toEventResource.js")),
  };
  for (const name of ["openDatabase", "createEventWriter", "loadSpec", "eventInputSchema", "eventResourceOf"]) {
    if (typeof modules[name] !== "function") throw new Error(`the built server no longer exports ${name} where the floor looks for it`);
  }
  return modules as unknown as ServerModules;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
}

/** What answering one request needs: the configuration, the validator, the writer and the tenant. */
interface Floor {
  readonly config: Config;
  readonly server: ServerModules;
  readonly validate: ValidateEventInput;
  readonly writer: ReturnType<ServerModules["createEventWriter"]>;
  readonly workspaceId: string;
  readonly createdBy: string;
  /** Closes the database pool. */
  readonly close: () => Promise<void>;
}

async function main(): Promise<void> {
  const floor = await openFloor(parseConfig());
  const { config } = floor;
  const http = createServer((req: IncomingMessage, res: ServerResponse) => handleRequest(floor, req, res));
  http.keepAliveTimeout = 60_000;
  http.listen(config.port, config.host, () => {
    const address = http.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    process.stdout.write(`${JSON.stringify({ msg: "switchyard listening", port })}\n`);
  });
  process.once("SIGTERM", () => {
    http.close();
    http.closeAllConnections();
    void floor.close().finally(() => process.exit(0));
  });
}

/** Loads the server's modules and opens what they need: the validator, the database pool and the event writer. */
async function openFloor(config: Config): Promise<Floor> {
  const workspaceId = required("FLOOR_WORKSPACE");
  const createdBy = required("FLOOR_CREATED_BY");
  const server = await serverModules();
  const validate = createEventInputValidator(server.eventInputSchema(await server.loadSpec()), config.limits);
  const { pool, close } = server.openDatabase({
    connectionString: required("DATABASE_URL"),
    timeoutMs: config.dbTimeoutMs,
    poolSize: config.dbPoolSize,
    onIdleError: () => {},
  });
  // The server's own settings (app.ts): half the pool writes events.
  const writer = server.createEventWriter(pool, {
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    maxInFlight: Math.max(1, Math.ceil(config.dbPoolSize / 2)),
    maxRows: config.ingestGroupMaxRows,
    onRouted: () => {},
  });
  return { config, server, validate, writer, workspaceId, createdBy, close };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the body of `POST /api/v1/events/bulk` (up to the configured limit: 413 beyond it) and ingests it; 404 for anything else. */
function handleRequest(floor: Floor, req: IncomingMessage, res: ServerResponse): void {
  const { maxBodyBytes } = floor.config;
  if (req.method !== "POST" || req.url !== "/api/v1/events/bulk") {
    answer(res, 404, { error: "not found" });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBodyBytes) chunks.push(chunk);
  });
  req.on("end", () => {
    if (size > maxBodyBytes) return answer(res, 413, { error: "the body is too large" });
    ingest(floor, Buffer.concat(chunks, size), res).catch((error: unknown) => answer(res, 500, { error: String(error) }));
  });
}

/** Answers one bulk body: 400 unless it is a JSON array of 1 to `maxBatchItems` items, else the server's 201/207 answer. */
async function ingest(floor: Floor, body: Buffer, res: ServerResponse): Promise<void> {
  const { maxBatchItems } = floor.config.limits;
  let items: unknown;
  try {
    items = JSON.parse(body.toString("utf8"));
  } catch {
    return answer(res, 400, { error: "the body is not JSON" });
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > maxBatchItems) {
    return answer(res, 400, { error: `the body must be an array of 1 to ${maxBatchItems} items` });
  }
  const result = assembleBulkResult(await storeValid(floor, items));
  answer(res, result.status, result.body);
}

/** Validates every item, stores the valid ones in one write, and says what became of each. */
async function storeValid(floor: Floor, items: readonly unknown[]): Promise<ItemOutcome<object>[]> {
  const verdicts = items.map((item) => floor.validate(item));
  const rows = verdicts.map((verdict) => (verdict.ok ? eventRow(floor, verdict.value) : undefined));
  const toStore = rows.filter((row): row is NewEventRow => row !== undefined);
  const inserted: Inserted = toStore.length === 0 ? { createdAt: new Date(), stored: new Map() } : await floor.writer.write(toStore);
  const createdAtIso = inserted.createdAt.toISOString();
  return verdicts.map((verdict, index): ItemOutcome<object> => {
    if (!verdict.ok) return verdict;
    const row = rows[index] as NewEventRow;
    const status = inserted.stored.get(row.id);
    // The bench never repeats a key; a repeat would need the server's lookup of the original event.
    if (status === undefined) return { ok: false, error: keyTaken };
    return { ok: true, event: floor.server.eventResourceOf(row, status, createdAtIso) };
  });
}

/** A valid item's row, with a new time-ordered id, in the floor's workspace. */
function eventRow(floor: Floor, value: ValidEventInput): NewEventRow {
  return {
    id: uuidv7(),
    workspace_id: floor.workspaceId,
    event: value.event,
    resource: value.resource ?? null,
    resource_id: value.resource_id ?? null,
    payloadJson: value.payloadJson,
    created_by: floor.createdBy,
    idempotency_key: value.idempotency_key,
  };
}

const keyTaken = { status: 409, name: "IdempotencyConflict", message: "the key was already taken" } as const;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
