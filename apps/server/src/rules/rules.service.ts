import type { IntegrationType, Rule, RuleCreated, RuleDeleted, RuleInput, RuleList } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { destinations, ruleMetadataProblems } from "@switchyard/destinations";
import { findConnection } from "../connections/connections.repository.js";
import { pageWindow, toPage } from "../http/cursorPage.js";
import { NotFoundError, UnprocessableEntityError } from "../http/errors.js";
import { optionalField } from "../http/optionalField.js";
import { uuidv7 } from "../ids.js";
import { mustFindWorkspace } from "../workspaces/workspaces.service.js";
import { findRule, insertRule, listRules as listRuleRows, type RuleFilters, type RuleRow, softDeleteRule } from "./rules.repository.js";

/**
 * Creates a rule in its connection's workspace. The connection must be the organization's; a `workspace`,
 * if named, must be the connection's; the action must be one its integration offers, with the inputs it requires
 * (a channel, a list...) and templates that compile.
 */
export async function createRule(db: Db, organizationId: string, input: RuleInput, createdBy: string): Promise<RuleCreated> {
  const connection = await findConnection(db, organizationId, input.connection);
  if (connection === undefined) throw new NotFoundError("Connection not found.");
  if (input.workspace !== undefined && input.workspace.toLowerCase() !== connection.workspace_id) {
    throw new UnprocessableEntityError("The connection belongs to another workspace.", [
      { param: "connection", msg: "is not a connection of the workspace the rule names" },
    ]);
  }
  const action = currentActionName(connection.integration_type, input.metadata.action);
  const description = destinations.get(connection.integration_type)?.description;
  const actions = description?.actions.map((a) => a.key) ?? [];
  if (description === undefined || !actions.includes(action)) {
    throw new UnprocessableEntityError(`The ${connection.integration_type} integration has no action "${input.metadata.action}".`, [
      { param: "metadata.action", msg: `must be one of: ${actions.join(", ")}` },
    ]);
  }
  const problems = ruleMetadataProblems(description, { ...input.metadata, action });
  if (problems.length > 0) throw new UnprocessableEntityError(`The rule's metadata does not fit the ${action} action.`, problems);
  const row = await insertRule(
    db,
    {
      id: uuidv7(),
      workspace_id: connection.workspace_id,
      connection_id: connection.id,
      event: input.event,
      resource: input.resource ?? null,
      resource_id: input.resource_id ?? null,
      metadata: { ...input.metadata, action },
      active: input.active ?? true,
      hidden: input.hidden ?? false,
      created_by: createdBy,
    },
    connection.integration_type,
  );
  return { rule: toRule(row) };
}

/**
 * `send`, the webhook action's name before it took Meshes' `send_webhook`, is still accepted (deprecated, for one
 * minor version) and stored under the new name; migration 0013 renamed the stored ones.
 */
function currentActionName(integrationType: string, action: string): string {
  return integrationType === "webhook" && action === "send" ? "send_webhook" : action;
}

export async function getRule(db: Db, organizationId: string, id: string): Promise<Rule> {
  const row = await findRule(db, organizationId, id);
  if (row === undefined) throw new NotFoundError("Rule not found.");
  return toRule(row);
}

export async function listRulePage(
  db: Db,
  organizationId: string,
  page: { limit: number; cursor?: string | undefined } & RuleFilters,
): Promise<RuleList> {
  if (page.workspaceId !== undefined) await mustFindWorkspace(db, organizationId, page.workspaceId);
  const { cursor, limit, ...filters } = page;
  const rows = await listRuleRows(db, organizationId, filters, pageWindow({ limit, cursor }));
  return toPage(rows, page.limit, toRule);
}

/** Answers, as Meshes does, with what was deleted. */
export async function deleteRule(db: Db, organizationId: string, id: string): Promise<RuleDeleted> {
  const row = await findRule(db, organizationId, id);
  if (row === undefined) throw new NotFoundError("Rule not found.");
  await softDeleteRule(db, row.id);
  return { id: row.id, connection: row.connection_id, type: row.integration_type as IntegrationType, event: row.event };
}

/** A rule in Meshes' shape: `type` is the connection's integration type; filters it has not are left out. */
function toRule(row: RuleRow): Rule {
  return {
    id: row.id,
    type: row.integration_type as IntegrationType,
    workspace: row.workspace_id,
    connection: row.connection_id,
    event: row.event,
    ...optionalField("resource", row.resource),
    ...optionalField("resource_id", row.resource_id),
    metadata: row.metadata as Rule["metadata"],
    active: row.active,
    hidden: row.hidden,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
