import type { Db, DeliveryAttemptsTable } from "@switchyard/db";
import type { Selectable } from "kysely";

/** One attempt of a delivery, as the delivery worker recorded it (0003_routing); read-only here. */
export type DeliveryAttemptRow = Omit<Selectable<DeliveryAttemptsTable>, "rule_event_id">;

/** Every attempt of one delivery, oldest first. The caller has checked that the delivery is the organization's. */
export async function listDeliveryAttempts(db: Db, deliveryId: string): Promise<DeliveryAttemptRow[]> {
  return db
    .selectFrom("delivery_attempts")
    .select([
      "id",
      "attempt",
      "outcome_code",
      "http_status",
      "duration_ms",
      "request",
      "response_headers",
      "response_body",
      "error",
      "next_attempt_at",
      "started_at",
      "completed_at",
    ])
    .where("rule_event_id", "=", deliveryId)
    .orderBy("attempt")
    .orderBy("started_at")
    .execute();
}
