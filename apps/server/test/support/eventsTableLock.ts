import pg from "pg";

/** A session holding the `events` table locked, and what it sees of the sessions waiting on it. */
export interface EventsTableLock {
  /** Sessions of the database waiting on a lock now. */
  readonly waiters: () => Promise<number>;
  /** Ends the transaction, and with it the lock: the waiting statements go on. */
  readonly release: () => Promise<void>;
  /** Closes the session (releasing the lock if it is still held); never fails. */
  readonly end: () => Promise<void>;
}

/**
 * Takes an access-exclusive lock on `events` in a transaction of its own, so that every statement that
 * reads or writes events waits: how a test makes the database slow to answer without stopping it.
 */
export async function lockEventsTable(databaseUrl: string): Promise<EventsTableLock> {
  const client = new pg.Client({ connectionString: databaseUrl });
  const end = () => client.end().catch(() => {});
  try {
    await client.connect();
    await client.query("begin");
    await client.query("lock table events in access exclusive mode");
  } catch (error) {
    await end();
    throw error;
  }
  return {
    waiters: async () => {
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      );
      return rows[0]?.n ?? -1;
    },
    release: async () => {
      await client.query("rollback");
    },
    end,
  };
}
