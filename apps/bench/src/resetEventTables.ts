import type pg from "pg";
import { withClient } from "./withClient.js";

/**
 * Empties the tables ingestion writes and checkpoints, so that every measured window starts from the same
 * state: small tables and indexes, and a checkpoint just taken (the first write to each page after a
 * checkpoint logs the whole page, so where a checkpoint falls would otherwise bias one run against another).
 * CASCADE empties what references events too. Only while nothing writes: TRUNCATE waits for
 * every other lock on the tables.
 */
export async function resetEventTables(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    // A delivery worker still running (routing on) takes these tables in both orders: recording takes
    // delivery_attempts, rule_events, then events (the counter trigger), and claims rule_events, then events;
    // routing takes route_outbox, events, then rule_events. The locks here follow the first, more frequent order, so only a routing statement can deadlock with them, and
    // this session checks for deadlocks long before the worker's sessions do (1 s): it is always the one
    // PostgreSQL aborts, and it tries again. Waiting in the lock queue (not NOWAIT) keeps a busy worker from
    // starving it.
    await client.query("set deadlock_timeout = '20ms'");
    await truncateRetryingDeadlocks(client);
    await client.query("checkpoint");
  });
}

/** Locks and empties the tables in one transaction, tried again (100 times at most) while it is chosen as a deadlock's victim. */
async function truncateRetryingDeadlocks(client: pg.Client): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query("begin");
      await client.query("lock table delivery_attempts, rule_events, events, idempotency_keys, route_outbox in access exclusive mode");
      await client.query("truncate rule_events, events, idempotency_keys, route_outbox cascade");
      await client.query("commit");
      return;
    } catch (error) {
      await client.query("rollback");
      if ((error as { code?: string }).code !== "40P01" || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
