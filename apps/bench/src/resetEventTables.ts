import pg from "pg";

/**
 * Empties the tables ingestion writes and checkpoints, so that every measured window starts from the same
 * state: small tables and indexes, and a checkpoint just taken (the first write to each page after a
 * checkpoint logs the whole page, so where a checkpoint falls would otherwise bias one run against another).
 * CASCADE empties what references events too (deliveries). Only while nothing writes: TRUNCATE waits for
 * every other lock on the tables.
 */
export async function resetEventTables(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("truncate events, idempotency_keys cascade");
    await client.query("checkpoint");
  } finally {
    await client.end();
  }
}
