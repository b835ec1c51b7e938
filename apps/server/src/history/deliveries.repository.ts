import type { Db, DeliveriesTable } from "@switchyard/db";
import type { Selectable } from "kysely";
import { organizationWorkspaceIds } from "../workspaces/workspaces.repository.js";

/**
 * One delivery of an event through one rule (table `rule_events`, 0003_routing). Routing (the worker's `route`
 * task) creates the rows and the delivery worker moves them on; here they are read, and `commands/` retries and
 * cancels them.
 */
export type DeliveryRow = Pick<Selectable<DeliveriesTable>, (typeof deliveryColumns)[number]>;

/** Which delivery: of which event, through which rule and connection... */
const identityColumns = ["id", "workspace_id", "event_id", "rule_id", "connection_id", "integration_type", "created_at"] as const;
/** ...and how far it got. */
const progressColumns = ["status", "attempt_count", "next_attempt_at", "started_at", "completed_at", "last_error"] as const;
export const deliveryColumns = [...identityColumns, ...progressColumns] as const;

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
    .where("rule_events.workspace_id", "in", organizationWorkspaceIds(db, organizationId))
    .executeTakeFirst();
}
