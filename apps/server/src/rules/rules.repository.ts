import type { Db, RulesTable } from "@switchyard/db";
import type { Insertable, Selectable } from "kysely";
import { fetchPage, type PageWindow } from "../http/cursorPage.js";
import { liveOfOrganization } from "../workspaces/workspaces.repository.js";

/** A stored rule as the API answers it: its columns and its connection's integration type (Meshes' `type`). */
export type RuleRow = Omit<Selectable<RulesTable>, "deleted_at"> & { readonly integration_type: string };

const columns = [
  "rules.id",
  "rules.workspace_id",
  "rules.connection_id",
  "rules.event",
  "rules.resource",
  "rules.resource_id",
  "rules.metadata",
  "rules.active",
  "rules.hidden",
  "rules.created_by",
  "rules.created_at",
  "rules.updated_at",
] as const;

export interface RuleFilters {
  readonly workspaceId?: string | undefined;
  readonly event?: string | undefined;
  readonly resource?: string | undefined;
  readonly resourceId?: string | undefined;
}

/** A rule to store; its metadata is any JSON value, serialized here. */
export type NewRuleRow = Omit<Insertable<RulesTable>, "metadata"> & { readonly metadata: unknown };

/** Stores the rule; `integrationType` is its connection's, which the caller has read. */
export async function insertRule(db: Db, row: NewRuleRow, integrationType: string): Promise<RuleRow> {
  const stored = await db
    .insertInto("rules")
    .values({ ...row, metadata: JSON.stringify(row.metadata) })
    .returning(columns)
    .executeTakeFirstOrThrow();
  return { ...stored, integration_type: integrationType };
}

/** The organization's live (not deleted) rules; a rule is the organization's through its workspace. */
function liveRules(db: Db, organizationId: string) {
  return db
    .selectFrom("rules")
    .select(columns)
    .select((eb) =>
      eb
        .selectFrom("connections")
        .select("connections.integration_type")
        .whereRef("connections.id", "=", "rules.connection_id")
        .$asScalar()
        .$notNull()
        .as("integration_type"),
    )
    .where(liveOfOrganization(db, organizationId));
}

export async function findRule(db: Db, organizationId: string, id: string): Promise<RuleRow | undefined> {
  return liveRules(db, organizationId).where("rules.id", "=", id).executeTakeFirst();
}

/** One page of the organization's live rules in id (creation) order (`fetchPage`). */
export async function listRules(db: Db, organizationId: string, filters: RuleFilters, page: PageWindow): Promise<RuleRow[]> {
  let query = liveRules(db, organizationId);
  if (filters.workspaceId !== undefined) query = query.where("rules.workspace_id", "=", filters.workspaceId);
  if (filters.event !== undefined) query = query.where("rules.event", "=", filters.event);
  if (filters.resource !== undefined) query = query.where("rules.resource", "=", filters.resource);
  if (filters.resourceId !== undefined) query = query.where("rules.resource_id", "=", filters.resourceId);
  return fetchPage(query, "rules.id", "asc", page);
}

/** Whether any live, active rule routes to the connection. */
export async function connectionHasActiveRules(db: Db, connectionId: string): Promise<boolean> {
  const row = await db
    .selectFrom("rules")
    .select("id")
    .where("connection_id", "=", connectionId)
    .where("active", "=", true)
    .where("deleted_at", "is", null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Stops the rule matching new events and hides it; deliveries it created keep their history. */
export async function softDeleteRule(db: Db, id: string): Promise<void> {
  const now = new Date();
  await db.updateTable("rules").set({ deleted_at: now, updated_at: now, active: false }).where("id", "=", id).execute();
}
