import { deliverTask, drainJobKey } from "./jobs.js";
import { preparedStatement, runStatement, type StatementRunner } from "./statements.js";

/** A delivery claimed for one attempt, with everything the attempt needs. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly attempt_count: number;
  readonly retry_base: number;
  readonly action: string;
  readonly rule_id: string;
  /** The rule's whole metadata: `action` and the action's inputs (a channel, a template, a list...). */
  readonly rule_metadata: Record<string, unknown>;
  /** The connection's default mapping version (null only for a connection made before mappings existed, which migration 0013 filled). */
  readonly mapping_version: number | null;
  /** Its schema when it has fields; null when it has none (nothing to apply: the payload goes as it came). */
  readonly mapping_schema: unknown;
  readonly connection_id: string;
  readonly integration_type: string;
  readonly connection_metadata: unknown;
  readonly secrets_ciphertext: string;
  readonly connection_active: boolean;
  readonly inactive_reason: string | null;
  readonly event_id: string;
  readonly workspace_id: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly payload: Record<string, unknown>;
  readonly event_created_at: Date;
}

export interface ClaimLimits {
  /** Claim at most this many (this process's free attempt slots). */
  readonly capacity: number;
  /** Attempts in flight to one connection, across every worker, that a claim may bring it up to. */
  readonly perConnection: number;
  readonly leaseMs: number;
}

/** What a claim took, and the due deliveries it left for later (see `deferConnection`) with their connections. */
export interface Claim {
  readonly claimed: ClaimedDelivery[];
  readonly left: string[];
  readonly leftConnections: Set<string>;
}

/** Seeds the advisory-lock keys of per-connection claims, apart from any other advisory lock in the database. */
const connectionLockSeed = 0x5357_4430;

const claimStatement = preparedStatement("claim_deliveries");
const dueDeliveriesStatement = preparedStatement("due_deliveries_of_connection");
const deferConnectionStatement = preparedStatement("defer_connection");

/**
 * Claims, for one attempt each, the due deliveries among `ids` that fit: at most `capacity`, and no
 * connection above `perConnection` attempts in flight across every worker. Claims touching the same
 * connection take turns (a transaction-scoped advisory lock per connection, taken in id order so two
 * claims cannot deadlock), so each counts the others' attempts and the cap is exact. A claim sets `processing`,
 * counts the attempt and sets a lease after which a lost attempt goes back to the queue. Deliveries that are
 * not due, already claimed, finished or canceled are skipped, so a job that runs twice delivers once.
 *
 * One round trip: `switchyard_claim_deliveries` (migrations 0006, 0016), so the lock is held only while PostgreSQL
 * works. Its commit is asynchronous: a claim lost in a database crash leaves the delivery due again, to be
 * attempted again, which at-least-once delivery allows (the attempt keeps its `webhook-id`); and the attempt's
 * record, committed synchronously, flushes the claim before it, so no attempt is recorded against a claim that
 * was lost.
 */
export async function claimDeliveries(runner: StatementRunner, ids: readonly string[], limits: ClaimLimits): Promise<Claim> {
  const rows = await runStatement<ClaimedDelivery & { claimed: boolean }>(runner, claimStatement, [
    ids,
    limits.capacity,
    limits.perConnection,
    limits.leaseMs / 1000,
    connectionLockSeed,
  ]);
  const claimed: ClaimedDelivery[] = [];
  const left: string[] = [];
  const leftConnections = new Set<string>();
  for (const { claimed: isClaimed, ...row } of rows) {
    if (isClaimed) claimed.push(row);
    else {
      left.push(row.id);
      leftConnections.add(row.connection_id);
    }
  }
  return { claimed, left, leftConnections };
}

/** A connection's due deliveries, oldest first: what a freed attempt slot for it takes next. */
export async function dueDeliveriesOf(runner: StatementRunner, connectionId: string, limit: number): Promise<string[]> {
  const rows = await runStatement<{ id: string }>(runner, dueDeliveriesStatement, [connectionId, limit]);
  return rows.map((r) => r.id);
}

/**
 * Looks at a connection's due deliveries again after `delayMs`, in its one drain job: however many batches find
 * the connection at its cap, it has one such job waiting at a time (keyed by the connection; a new deferral keeps
 * the earlier run time). The job remembers how often the connection was deferred in a row. Answers how long until
 * that job is due, in milliseconds.
 */
export async function deferConnection(runner: StatementRunner, connectionId: string, deferrals: number, delayMs: number): Promise<number> {
  const [row] = await runStatement<{ due_in_ms: number }>(runner, deferConnectionStatement, [
    connectionId,
    deferrals,
    delayMs / 1000,
    deliverTask,
    drainJobKey(connectionId),
  ]);
  return row?.due_in_ms ?? 0;
}
