import { type NewEventRow, openDatabase, insertEvents as switchyardInsertEvents } from "@switchyard/db";

/** The row `insertEvents` takes, with the idempotency key the bench always sets. */
export type EventRow = NewEventRow & { readonly idempotency_key: string };

export interface SwitchyardRepository {
  /** Switchyard's own ingest statement, through its own pool settings: the server minus HTTP. */
  readonly insertEvents: (rows: readonly EventRow[]) => Promise<unknown>;
  readonly close: () => Promise<void>;
}

/** Opens Switchyard's database module and its ingest statement (`@switchyard/db`), as the server does. */
export async function openSwitchyardRepository(connectionString: string, poolSize: number): Promise<SwitchyardRepository> {
  const { pool, close } = openDatabase({ connectionString, timeoutMs: 30_000, poolSize, onIdleError: () => {} });
  return { insertEvents: (rows) => switchyardInsertEvents(pool, rows, 86_400), close };
}
