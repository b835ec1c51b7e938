import { randomUUID } from "node:crypto";
import type { SecretBox } from "@switchyard/secret-box";
import { type AttemptDecision, decideAttempt } from "../policy/decideAttempt.js";
import type { AttemptRunner } from "./attemptRunner.js";
import type { DeliveryWorkerConfig } from "./config.js";
import {
  type AttemptResolution,
  type ClaimedDelivery,
  claimDeliveries,
  type DeliveryDb,
  deferDeliveries,
  failWithoutAttempt,
  recordAttempt,
} from "./deliveryStore.js";
import type { Destinations } from "./destinations.js";

export interface DeliverBatchDeps {
  readonly db: DeliveryDb;
  readonly secretBox: SecretBox;
  readonly destinations: Destinations;
  readonly config: DeliveryWorkerConfig;
  readonly log: { info(fields: object, message: string): void; warn(fields: object, message: string): void };
  /** Where this process's attempts run, off the job's slot. */
  readonly attempts: AttemptRunner;
  readonly random?: () => number;
}

/** The longest a deferred delivery waits before it is looked at again. */
const maxDeferMs = 30_000;

/**
 * One `deliver` job: claims the due deliveries among `ids` that this process has room for (and whose
 * connection is not at its in-flight cap), starts their attempts and returns at once, so that no job slot
 * waits on a destination: a hanging destination holds at most its cap of attempts, never the worker. The
 * deliveries it could not take now are deferred, with a wait that doubles each time. A failed attempt is
 * data (recorded and scheduled); only the database failing throws, and graphile-worker retries the job.
 */
export async function deliverBatch(deps: DeliverBatchDeps, ids: readonly string[], deferrals = 0): Promise<void> {
  const { claimed, left } = await claimDeliveries(deps.db, ids, {
    capacity: deps.attempts.free(),
    perConnection: deps.config.maxInFlightPerConnection,
    leaseMs: deps.config.deliveryTimeoutMs + deps.config.leaseMarginMs,
  });
  for (const delivery of claimed) {
    deps.attempts.run(() =>
      attemptOnce(deps, delivery).catch((error: unknown) => {
        // Not recorded (the database failed): the lease runs out and the sweeper requeues the delivery.
        deps.log.warn(
          { err: error, ruleEvent: delivery.id },
          "could not record a delivery attempt; it will be retried when its lease ends",
        );
      }),
    );
  }
  if (left.length > 0) await deferDeliveries(deps.db, left, deferrals + 1, Math.min(deps.config.deferMs * 2 ** deferrals, maxDeferMs));
}

async function attemptOnce(deps: DeliverBatchDeps, delivery: ClaimedDelivery): Promise<void> {
  if (!delivery.connection_active) {
    await failWithoutAttempt(deps.db, delivery.id, `connection inactive: ${delivery.inactive_reason ?? "deactivated"}`);
    return;
  }
  const startedAt = new Date();
  const facts = await deps.destinations.deliver(delivery, {
    secrets: () => JSON.parse(deps.secretBox.open(delivery.secrets_ciphertext)) as unknown,
    timeoutMs: deps.config.deliveryTimeoutMs,
  });
  const completedAt = new Date();
  const attempt = delivery.attempt_count - delivery.retry_base;
  const decision = decideAttempt(facts, attempt, { scale: deps.config.retryScheduleScale, random: deps.random ?? Math.random });
  const resolution = resolve(decision, facts.message);
  await recordAttempt(
    deps.db,
    {
      ruleEventId: delivery.id,
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
    },
    resolution,
    {
      id: delivery.connection_id,
      deactivateAfterMs: deps.config.deactivateAfterMs,
      deactivateNow: decision.next === "failed" ? decision.deactivateConnection : undefined,
    },
    randomUUID(),
  );
  deps.log.info(
    {
      ruleEvent: delivery.id,
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
