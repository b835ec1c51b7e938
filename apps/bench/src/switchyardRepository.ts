import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { NewEventRow } from "@switchyard/server";
import { serverDist } from "./switchyardServer.js";

/** The row `insertEvents` takes, with the idempotency key the bench always sets. */
export type EventRow = NewEventRow & { readonly idempotency_key: string };

export interface SwitchyardRepository {
  /** Switchyard's own ingest statement, through its own pool settings and Kysely: the server minus HTTP. */
  readonly insertEvents: (rows: readonly EventRow[]) => Promise<unknown>;
  readonly close: () => Promise<void>;
}

/**
 * Opens the built server's database module and event repository (`@switchyard/db`,
 * `dist/events/events.repository.js`). Not part of the server's public exports, and the server changes
 * while the bench stays: on any mismatch this throws, and the bench reports that part as not measured.
 */
export async function openSwitchyardRepository(connectionString: string, poolSize: number): Promise<SwitchyardRepository> {
  const database = (await import("@switchyard/db")) as {
    openDatabase?: (options: object) => { pool: unknown; close: () => Promise<void> };
  };
  const repository = (await import(pathToFileURL(join(serverDist, "events/events.repository.js")).href)) as {
    insertEvents?: (pool: unknown, rows: readonly EventRow[], idempotencyTtlSeconds: number) => Promise<unknown>;
  };
  const { openDatabase } = database;
  const { insertEvents } = repository;
  if (typeof openDatabase !== "function" || typeof insertEvents !== "function") {
    throw new Error("the built server no longer exports openDatabase and insertEvents where the bench looks for them");
  }
  const { pool, close } = openDatabase({ connectionString, timeoutMs: 30_000, poolSize, onIdleError: () => {} });
  return { insertEvents: (rows) => insertEvents(pool, rows, 86_400), close };
}
