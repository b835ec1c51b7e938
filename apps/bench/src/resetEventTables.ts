import pg from "pg";

/**
 * Empties the tables ingestion writes and checkpoints, so that every measured window starts from the same
 * state: small tables and indexes, and a checkpoint just taken (the first write to each page after a
 * checkpoint logs the whole page, so where a checkpoint falls would otherwise bias one run against another).
 * CASCADE empties what references events too. Only while nothing writes: TRUNCATE waits for
 * every other lock on the tables.
 */
export async function resetEventTables(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // rule_events first: a delivery worker still running (routing on) locks rule_events, then events (the
    // counter trigger); taking them in the same order waits for it instead of deadlocking with it.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query("truncate rule_events, events, idempotency_keys cascade");
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== "40P01" || attempt >= 5) throw error;
      }
    }
    await client.query("checkpoint");
  } finally {
    await client.end();
  }
}
