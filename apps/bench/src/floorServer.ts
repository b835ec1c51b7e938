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
import { assembleBulkResult, createEventInputValidator, type ItemOutcome } from "@switchyard/event-intake";
import { type NewEventRow, parseConfig, uuidv7 } from "@switchyard/server";
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
    ...(await load("events/eventWriter.js")),
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

async function main(): Promise<void> {
  const config = parseConfig();
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

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };

  const ingest = async (body: Buffer, res: ServerResponse) => {
    let items: unknown;
    try {
      items = JSON.parse(body.toString("utf8"));
    } catch {
      return answer(res, 400, { error: "the body is not JSON" });
    }
    if (!Array.isArray(items) || items.length === 0 || items.length > config.limits.maxBatchItems) {
      return answer(res, 400, { error: `the body must be an array of 1 to ${config.limits.maxBatchItems} items` });
    }
    const verdicts = items.map((item) => validate(item));
    const rows: Array<NewEventRow | undefined> = verdicts.map((v) =>
      v.ok
        ? {
            id: uuidv7(),
            workspace_id: workspaceId,
            event: v.value.event,
            resource: v.value.resource ?? null,
            resource_id: v.value.resource_id ?? null,
            payloadJson: v.value.payloadJson,
            created_by: createdBy,
            idempotency_key: v.value.idempotency_key,
          }
        : undefined,
    );
    const toStore = rows.filter((row): row is NewEventRow => row !== undefined);
    const inserted: Inserted = toStore.length === 0 ? { createdAt: new Date(), stored: new Map() } : await writer.write(toStore);
    const createdAtIso = inserted.createdAt.toISOString();
    const outcomes = verdicts.map((verdict, index): ItemOutcome<object> => {
      if (!verdict.ok) return verdict;
      const row = rows[index] as NewEventRow;
      const status = inserted.stored.get(row.id);
      // The bench never repeats a key; a repeat would need the server's lookup of the original event.
      if (status === undefined) return { ok: false, error: keyTaken };
      return { ok: true, event: server.eventResourceOf(row, status, createdAtIso) };
    });
    const result = assembleBulkResult(outcomes);
    answer(res, result.status, result.body);
  };

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST" || req.url !== "/api/v1/events/bulk") return answer(res, 404, { error: "not found" });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= config.maxBodyBytes) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > config.maxBodyBytes) return answer(res, 413, { error: "the body is too large" });
      ingest(Buffer.concat(chunks, size), res).catch((error: unknown) => answer(res, 500, { error: String(error) }));
    });
  });
  http.keepAliveTimeout = 60_000;
  http.listen(config.port, config.host, () => {
    const address = http.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    process.stdout.write(`${JSON.stringify({ msg: "switchyard listening", port })}\n`);
  });
  process.once("SIGTERM", () => {
    http.close();
    http.closeAllConnections();
    void close().finally(() => process.exit(0));
  });
}

const keyTaken = { status: 409, name: "IdempotencyConflict", message: "the key was already taken" } as const;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
