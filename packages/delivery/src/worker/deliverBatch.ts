import { randomUUID } from "node:crypto";
import type { SecretBox } from "@switchyard/secret-box";
import { type AttemptDecision, decideAttempt } from "../policy/decideAttempt.js";
import type { DeliveryWorkerConfig } from "./config.js";
import {
  type AttemptResolution,
  type ClaimedDelivery,
  claimDeliveries,
  type DeliveryDb,
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
  readonly random?: () => number;
}

/**
 * One `deliver` job: claims the due deliveries among `ids` and makes one attempt at each, concurrently, so a
 * slow destination delays only its own deliveries. A failed attempt is data (recorded and scheduled), never
 * an exception; only an infrastructure failure (the database) throws, and graphile-worker retries the job.
 */
export async function deliverBatch(deps: DeliverBatchDeps, ids: readonly string[]): Promise<void> {
  const leaseMs = deps.config.deliveryTimeoutMs + deps.config.leaseMarginMs;
  const claimed = await claimDeliveries(deps.db, ids, leaseMs);
  await Promise.all(claimed.map((delivery) => attemptOnce(deps, delivery)));
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
