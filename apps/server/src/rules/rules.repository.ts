import type { Db, RulesTable } from "@switchyard/db";
import type { Selectable } from "kysely";

export type RuleRow = Omit<Selectable<RulesTable>, "deleted_at">;

const columns = [
  "rules.id",
  "rules.workspace_id",
  "rules.connection_id",
  "rules.event",
  "rules.resource",
  "rules.resource_id",
  "rules.metadata",
  "rules.active",
  "rules.created_at",
] as const;

export interface RuleFilters {
  readonly workspaceId?: string | undefined;
  readonly event?: string | undefined;
  readonly resource?: string | undefined;
  readonly resourceId?: string | undefined;
}

export async function insertRule(
  db: Db,
  row: {
    id: string;
    workspace_id: string;
    connection_id: string;
    event: string;
    resource: string | null;
    resource_id: string | null;
    metadata: unknown;
    active: boolean;
  },
): Promise<RuleRow> {
  return db
    .insertInto("rules")
    .values({ ...row, metadata: JSON.stringify(row.metadata) })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function findRule(db: Db, organizationId: string, id: string): Promise<RuleRow | undefined> {
  return db
    .selectFrom("rules")
    .innerJoin("workspaces", "workspaces.id", "rules.workspace_id")
    .select(columns)
    .where("workspaces.organization_id", "=", organizationId)
    .where("rules.id", "=", id)
    .where("rules.deleted_at", "is", null)
    .executeTakeFirst();
}

export async function listRules(
  db: Db,
  organizationId: string,
  page: { limit: number; afterId?: string | undefined } & RuleFilters,
): Promise<RuleRow[]> {
  let query = db
    .selectFrom("rules")
    .innerJoin("workspaces", "workspaces.id", "rules.workspace_id")
    .select(columns)
    .where("workspaces.organization_id", "=", organizationId)
    .where("rules.deleted_at", "is", null);
  if (page.workspaceId !== undefined) query = query.where("rules.workspace_id", "=", page.workspaceId);
  if (page.event !== undefined) query = query.where("rules.event", "=", page.event);
  if (page.resource !== undefined) query = query.where("rules.resource", "=", page.resource);
  if (page.resourceId !== undefined) query = query.where("rules.resource_id", "=", page.resourceId);
  if (page.afterId !== undefined) query = query.where("rules.id", ">", page.afterId);
  return query
    .orderBy("rules.id")
    .limit(page.limit + 1)
    .execute();
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
  await db.updateTable("rules").set({ deleted_at: new Date(), active: false }).where("id", "=", id).execute();
}
