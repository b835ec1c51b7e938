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
    // A delivery worker still running (routing on) takes these tables in both orders (routing: events, then
    // rule_events; recording: rule_events, then events through the counter trigger), so any order of taking
    // them here can deadlock with one of them. The locks are taken without waiting instead, and retried.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query("begin");
        await client.query("lock table delivery_attempts, rule_events, events, idempotency_keys in access exclusive mode nowait");
        await client.query("truncate rule_events, events, idempotency_keys cascade");
        await client.query("commit");
        break;
      } catch (error) {
        await client.query("rollback");
        if ((error as { code?: string }).code !== "55P03" || attempt >= 400) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    await client.query("checkpoint");
  } finally {
    await client.end();
  }
}
