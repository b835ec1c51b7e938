import { randomUUID } from "node:crypto";
import { type ClaimedDelivery, claimDeliveries, type Db, deferConnection, dueDeliveriesOf, type StatementRunner } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { type AttemptDecision, decideAttempt } from "../policy/decideAttempt.js";
import type { AttemptRecorder } from "./attemptRecorder.js";
import { type AttemptRecord, type AttemptResolution, failWithoutAttempt, recordAttempt } from "./attemptRecords.js";
import type { AttemptRunner } from "./attemptRunner.js";
import type { DeliveryWorkerConfig } from "./config.js";
import type { Destinations } from "./destinations.js";
import type { WorkerLog } from "./workerLog.js";

export interface DeliverBatchDeps {
  /** Typed queries (recording failed attempts, their jobs and streaks). */
  readonly db: Db;
  /** The worker's pool, for the prepared hot statements (claims, deferrals). */
  readonly pool: StatementRunner;
  readonly secretBox: SecretBox;
  readonly destinations: Destinations;
  readonly config: DeliveryWorkerConfig;
  readonly log: WorkerLog;
  /** Where this process's attempts run, off the job's slot. */
  readonly attempts: AttemptRunner;
  /** Where this process's successful attempts are recorded, together under load. */
  readonly recorder: AttemptRecorder;
  readonly random?: () => number;
}

/** The longest a deferred delivery waits before it is looked at again (a backstop: see `refill`). */
const maxDeferMs = 5_000;

/**
 * One `route` or `deliver` job's deliveries: claims the due ones among `ids` that this process has room for (and
 * whose connection is not at its in-flight cap), starts their attempts and returns at once, so that no job slot
 * waits on a destination: a hanging destination holds at most its cap of attempts, never the worker. The
 * deliveries it could not take now wait for their connection's drain job (`deferConnection`), due after a wait
 * that doubles while the connection makes no progress (up to 5 s), and are taken sooner when an attempt to
 * their connection ends (`refill`). A failed attempt is data (recorded and scheduled); only the database
 * failing throws, and graphile-worker retries the job. Answers how many it claimed and left.
 */
export async function deliverBatch(
  deps: DeliverBatchDeps,
  ids: readonly string[],
  deferrals = 0,
): Promise<{ claimed: number; left: number }> {
  const { claimed, left, leftConnections } = await claimDeliveries(deps.pool, ids, claimLimits(deps));
  const { backlog } = connectionsOf(deps.attempts);
  for (const connectionId of leftConnections) backlog.add(connectionId);
  startAttempts(deps, claimed);
  // Progress starts the waits over; a connection that took nothing waits twice as long as last time.
  const waited = claimed.length > 0 ? 0 : deferrals;
  for (const connectionId of leftConnections) await scheduleDrain(deps, connectionId, waited);
  return { claimed: claimed.length, left: left.length };
}

/** Margin before a drain job's run time within which this process no longer counts on the job seeing new deliveries. */
const drainMarginMs = 50;

/**
 * Makes sure the connection's drain job will look at its due deliveries, those just left included. While a drain
 * job this process scheduled is not yet due, it will run after them and see them, so a backlogged connection
 * costs no statement per batch; otherwise (it is due, may already be running, or was never scheduled here) a
 * deferral is added.
 */
async function scheduleDrain(deps: DeliverBatchDeps, connectionId: string, deferrals: number): Promise<void> {
  const { drainDueAt } = connectionsOf(deps.attempts);
  if ((drainDueAt.get(connectionId) ?? 0) > performance.now() + drainMarginMs) return;
  const dueInMs = await deferConnection(deps.pool, connectionId, deferrals + 1, deferDelay(deps, deferrals));
  drainDueAt.set(connectionId, performance.now() + dueInMs);
}

/**
 * A connection's drain job (see `deferConnection`): takes its oldest due deliveries, as many as this process and
 * the connection's cap allow, and defers the connection again while more are waiting.
 */
export async function drainConnection(deps: DeliverBatchDeps, connectionId: string, deferrals: number): Promise<void> {
  const room = Math.min(deps.attempts.free(), deps.config.maxInFlightPerConnection);
  if (room === 0) {
    await scheduleDrain(deps, connectionId, deferrals);
    return;
  }
  const ids = await dueDeliveriesOf(deps.pool, connectionId, room);
  if (ids.length === 0) return;
  const { claimed, left } = await deliverBatch(deps, ids, deferrals);
  // All taken, but the connection may have more waiting than this drain looked at: look again soon.
  if (left === 0 && ids.length === room) {
    connectionsOf(deps.attempts).backlog.add(connectionId);
    await scheduleDrain(deps, connectionId, claimed > 0 ? 0 : deferrals);
  }
}

function deferDelay(deps: DeliverBatchDeps, deferrals: number): number {
  return Math.min(deps.config.deferMs * 2 ** deferrals, maxDeferMs);
}

function claimLimits(deps: DeliverBatchDeps) {
  return {
    capacity: deps.attempts.free(),
    perConnection: deps.config.maxInFlightPerConnection,
    leaseMs: deps.config.deliveryTimeoutMs + deps.config.leaseMarginMs,
  };
}

/** Runs one attempt per claimed delivery in the background; each one that ends frees a slot for its connection. */
function startAttempts(deps: DeliverBatchDeps, claimed: readonly ClaimedDelivery[]): void {
  for (const delivery of claimed) {
    deps.attempts.run(async () => {
      try {
        await attemptOnce(deps, delivery);
      } catch (error) {
        // Not recorded (the database failed): the lease runs out and the sweeper requeues the delivery.
        deps.log.warn({ err: error, delivery: delivery.id }, "could not record a delivery attempt; it will be retried when its lease ends");
        return;
      }
      if (connectionsOf(deps.attempts).backlog.has(delivery.connection_id)) refill(deps, delivery.connection_id);
    });
  }
}

/**
 * Per process (its attempt runner), by connection id:
 * - `refilling`: connections being refilled right now, one refill at a time each;
 * - `backlog`: connections for which this process deferred due deliveries (over their cap, or over its
 *   capacity) and whose backlog a refill has not yet found empty. Only these are refilled: otherwise the jobs
 *   that come with new deliveries claim them, many at a time, and a refill after every attempt would claim them
 *   one by one first (a transaction each), which costs more database work per delivery than it saves.
 */
interface ConnectionState {
  readonly refilling: Set<string>;
  readonly backlog: Set<string>;
  /** When the drain job this process last scheduled for the connection is due (`performance.now()` time). */
  readonly drainDueAt: Map<string, number>;
}

const connectionStates = new WeakMap<AttemptRunner, ConnectionState>();

function connectionsOf(attempts: AttemptRunner): ConnectionState {
  let state = connectionStates.get(attempts);
  if (state === undefined) {
    state = { refilling: new Set(), backlog: new Set(), drainDueAt: new Map() };
    connectionStates.set(attempts, state);
  }
  return state;
}

/**
 * An attempt to this backlogged connection just ended, so it has a free slot: take its next due deliveries now
 * rather than when their deferral ends. A fast destination is thus fed as fast as it answers; a hanging one, whose
 * attempts do not end, is not. What it cannot claim keeps the job or deferral it already has, and a
 * failure here only leaves the deliveries to that.
 */
function refill(deps: DeliverBatchDeps, connectionId: string): void {
  const { refilling, backlog } = connectionsOf(deps.attempts);
  if (refilling.has(connectionId) || deps.attempts.free() === 0) return;
  refilling.add(connectionId);
  void (async () => {
    try {
      const ids = await dueDeliveriesOf(deps.pool, connectionId, Math.min(deps.attempts.free(), deps.config.maxInFlightPerConnection));
      if (ids.length === 0) {
        backlog.delete(connectionId);
        return;
      }
      const { claimed } = await claimDeliveries(deps.pool, ids, claimLimits(deps));
      startAttempts(deps, claimed);
    } catch (error) {
      deps.log.warn({ err: error, connection: connectionId }, "could not refill a connection's deliveries; they wait for their deferral");
    } finally {
      refilling.delete(connectionId);
    }
  })();
}

async function attemptOnce(deps: DeliverBatchDeps, delivery: ClaimedDelivery): Promise<void> {
  if (!delivery.connection_active) {
    await failWithoutAttempt(deps.db, delivery.id, `connection inactive: ${delivery.inactive_reason ?? "deactivated"}`);
    return;
  }
  const startedAt = new Date();
  const facts = await deps.destinations.deliver(delivery, {
    secrets: () =>
      JSON.parse(deps.secretBox.open(delivery.secrets_ciphertext, secretContext.connection(delivery.connection_id))) as unknown,
    timeoutMs: deps.config.deliveryTimeoutMs,
  });
  const completedAt = new Date();
  const attempt = delivery.attempt_count - delivery.retry_base;
  const decision = decideAttempt(facts, attempt, { scale: deps.config.retryScheduleScale, random: deps.random ?? Math.random });
  const resolution = resolve(decision, facts.message);
  const record: AttemptRecord = {
    deliveryId: delivery.id,
    attempt: delivery.attempt_count,
    outcome: decision.outcome,
    httpStatus: facts.httpStatus ?? null,
    durationMs: Math.round(facts.durationMs),
    request: facts.request ?? null,
    responseHeaders: facts.responseHeaders ?? null,
    responseBody: facts.responseBody ?? null,
    error: facts.message ?? null,
    startedAt,
    completedAt,
  };
  if (resolution.status === "completed") {
    await deps.recorder.completed({ record, connectionId: delivery.connection_id, attemptId: randomUUID() });
  } else {
    await recordAttempt(
      deps.db,
      record,
      resolution,
      {
        id: delivery.connection_id,
        deactivateAfterMs: deps.config.deactivateAfterMs,
        deactivateNow: decision.next === "failed" ? decision.deactivateConnection : undefined,
      },
      randomUUID(),
    );
  }
  deps.log.info(
    {
      delivery: delivery.id,
      event: delivery.event_id,
      attempt: delivery.attempt_count,
      outcome: decision.outcome,
      httpStatus: facts.httpStatus,
      next: resolution.status,
    },
    "delivery attempt",
  );
}

function resolve(decision: AttemptDecision, message: string | undefined): AttemptResolution {
  const lastError = message ?? decision.outcome;
  switch (decision.next) {
    case "completed":
      return { status: "completed" };
    case "retry":
      return { status: "retrying", lastError, delayMs: decision.delayMs };
    default:
      return {
        status: "failed",
        lastError: decision.deactivateConnection ? `${lastError}; connection deactivated: ${decision.deactivateConnection}` : lastError,
      };
  }
}
