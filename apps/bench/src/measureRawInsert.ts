import pg from "pg";
import { cpuBetween, readCpu, sleep } from "./cpuWindow.js";
import { batchSize, rawBatches, repositoryBatches } from "./eventBodies.js";
import type { PostgresCluster } from "./postgresCluster.js";
import { resetEventTables } from "./resetEventTables.js";
import { openSwitchyardRepository } from "./switchyardRepository.js";
import type { Tenant } from "./switchyardServer.js";
import { withClient } from "./withClient.js";

/** The plain durable insert: the events table's rows, nothing else. */
const plainInsert = `
  insert into events (id, workspace_id, event, resource, resource_id, payload, status, created_by)
  select id, workspace_id, event, resource, resource_id, payload, 'pending', created_by
  from jsonb_to_recordset($1::jsonb) as r(
    id uuid, workspace_id uuid, event text, resource text, resource_id text, payload jsonb, created_by text)`;

export interface RawInsertResult {
  readonly eventsPerSecond: number;
  /** This process's CPU (building the batches, pg's protocol work) per event stored, in µs. */
  readonly clientUsPerEvent: number;
  readonly postgresUsPerEvent: number;
  readonly otherLoad: number;
}

export interface RawInsertOptions {
  readonly connections: number;
  /**
   * `plain`: the raw limit, a bare insert of the event rows by plain pg clients. `repository`: the built
   * server's own `insertEvents` (its full ingest statement: idempotency-key claims, routing) on its own
   * pool, called directly, so the gap to Switchyard splits into "the statement does more" and "HTTP".
   */
  readonly statement: "plain" | "repository";
  readonly warmupMs: number;
  readonly rampMs: number;
  readonly durationMs: number;
}

interface Inserter {
  /** Stores one batch of 100 rows on connection `lane`. */
  readonly insert: (lane: number) => Promise<unknown>;
  readonly close: () => Promise<void>;
}

async function openInserter(url: string, tenant: Tenant, options: RawInsertOptions, runPrefix: string): Promise<Inserter> {
  if (options.statement === "repository") {
    const repository = await openSwitchyardRepository(url, options.connections);
    const next = repositoryBatches({ workspaceId: tenant.workspaceId, createdBy: tenant.createdBy, runPrefix });
    return { insert: () => repository.insertEvents(next()), close: repository.close };
  }
  const clients = Array.from({ length: options.connections }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  const next = rawBatches({ workspaceId: tenant.workspaceId, createdBy: tenant.createdBy });
  return {
    insert: (lane) => (clients[lane] as pg.Client).query(plainInsert, [next()]),
    close: async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    },
  };
}

/**
 * `connections` connections inserting 100 rows a statement back to back, each statement its own durable
 * commit (autocommit). A warm-up fills caches and is then truncated away; the measured window starts
 * `rampMs` after the load does.
 */
export async function measureRawInsert(
  cluster: PostgresCluster,
  database: string,
  tenant: Tenant,
  options: RawInsertOptions,
): Promise<RawInsertResult> {
  const url = cluster.url(database);
  const run = async (runPrefix: string) => {
    const inserter = await openInserter(url, tenant, options, runPrefix);
    const counters = { recording: false, statements: 0 };
    let stopping = false;
    const lanes = Array.from({ length: options.connections }, async (_, lane) => {
      while (!stopping) {
        await inserter.insert(lane);
        if (counters.recording) counters.statements += 1;
      }
    });
    return {
      counters,
      stop: async () => {
        stopping = true;
        try {
          await Promise.all(lanes);
        } finally {
          await inserter.close();
        }
      },
    };
  };

  const warmup = await run("warmup");
  await sleep(options.warmupMs);
  await warmup.stop();
  await resetEventTables(url);

  const load = await run("measured");
  await sleep(options.rampMs);
  const start = readCpu(cluster.postmasterPid);
  load.counters.recording = true;
  await sleep(options.durationMs);
  load.counters.recording = false;
  const end = readCpu(cluster.postmasterPid);
  await load.stop();

  if (options.statement === "repository") await checkKeysClaimed(url);

  const cpu = cpuBetween(start, end);
  const events = load.counters.statements * batchSize;
  return {
    eventsPerSecond: events / cpu.seconds,
    clientUsPerEvent: cpu.benchUs / events,
    postgresUsPerEvent: cpu.postgresUs / events,
    otherLoad: cpu.otherLoad,
  };
}

/**
 * The repository's row shape is the server's to change: if the rows reached the table without claiming
 * their keys, (a') measured a different statement than Switchyard runs, and must not be reported.
 */
async function checkKeysClaimed(url: string): Promise<void> {
  const { rows } = await withClient(url, (client) =>
    client.query<{ events: string; keys: string }>(
      "select (select count(*) from events) as events, (select count(*) from idempotency_keys) as keys",
    ),
  );
  const { events = "0", keys = "0" } = rows[0] ?? {};
  if (Number(keys) < Number(events)) {
    throw new Error(`${events} events were stored but only ${keys} idempotency keys claimed: the server's NewEventRow has changed shape`);
  }
}
