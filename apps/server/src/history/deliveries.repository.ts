import type { Database, Db, DeliveriesTable } from "@switchyard/db";
import type { ExpressionBuilder, Selectable } from "kysely";

/**
 * One delivery of an event through one rule (table `rule_events`, 0003_routing). Routing (the worker's `route`
 * task) creates the rows and the delivery worker moves them on; here they are read, and `commands/` retries and
 * cancels them.
 */
export type DeliveryRow = Pick<
  Selectable<DeliveriesTable>,
  | "id"
  | "event_id"
  | "rule_id"
  | "connection_id"
  | "integration_type"
  | "status"
  | "attempt_count"
  | "next_attempt_at"
  | "started_at"
  | "completed_at"
  | "last_error"
>;

export const deliveryColumns = [
  "id",
  "event_id",
  "rule_id",
  "connection_id",
  "integration_type",
  "status",
  "attempt_count",
  "next_attempt_at",
  "started_at",
  "completed_at",
  "last_error",
] as const;

/** Deliveries are scoped to the caller through their workspace: another organization's are never matched. */
export function deliveriesOfOrganization(organizationId: string) {
  return (eb: ExpressionBuilder<Database, "rule_events">) =>
    eb(
      "rule_events.workspace_id",
      "in",
      eb.selectFrom("workspaces").select("workspaces.id").where("workspaces.organization_id", "=", organizationId),
    );
}

/** An event's deliveries in creation order. The caller has already checked that the event is the organization's. */
export async function findEventDeliveries(db: Db, eventId: string): Promise<DeliveryRow[]> {
  return db.selectFrom("rule_events").select(deliveryColumns).where("event_id", "=", eventId).orderBy("created_at").orderBy("id").execute();
}

/** The delivery of an event through a rule, if both are the organization's. */
export async function findDelivery(db: Db, organizationId: string, eventId: string, ruleId: string): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom("rule_events")
    .select(deliveryColumns)
    .where("event_id", "=", eventId)
    .where("rule_id", "=", ruleId)
    .where(deliveriesOfOrganization(organizationId))
    .executeTakeFirst();
}
