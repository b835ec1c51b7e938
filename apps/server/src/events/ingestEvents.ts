import type { Event } from "@switchyard/client";
import { type ItemError, type ItemOutcome, type ValidateEventInput, type ValidEventInput, validationError } from "@switchyard/event-intake";
import type { Principal } from "../auth/principal.js";
import type { Db } from "../db/database.js";
import { uuidv7 } from "../ids.js";
import { filterOrganizationWorkspaces } from "../workspaces/workspaces.repository.js";
import { insertEvents, type NewEventRow } from "./events.repository.js";

export interface IngestDeps {
  readonly db: Db;
  readonly validateEventInput: ValidateEventInput;
}

const foreignWorkspace: ItemError = {
  status: 403,
  name: "Forbidden",
  message: "This credential cannot write to that workspace.",
  data: [{ param: "workspace", msg: "is not a workspace this credential may write to" }],
};

const missingWorkspace = validationError([{ param: "workspace", msg: "is required with a machine token" }]);

/**
 * Validates, authorizes and stores a batch of event inputs, answering each item in input order. The
 * accepted items are written in one statement, so they are all committed (before this resolves) or,
 * when it throws, none are; a rejected item leaves nothing behind.
 */
export async function ingestEvents(
  deps: IngestDeps,
  principal: Principal,
  items: readonly unknown[],
  root?: string,
): Promise<ItemOutcome<Event>[]> {
  const verdicts = items.map((item) => deps.validateEventInput(item, root));
  const valid = verdicts.flatMap((v) => (v.ok ? [v.value] : []));
  const workspaceOf = await workspaceResolver(deps.db, principal, valid);

  const outcomes: Array<ItemOutcome<Event> | { ok: true; row: NewEventRow }> = verdicts.map((verdict) => {
    if (!verdict.ok) return verdict;
    const workspace = workspaceOf(verdict.value);
    if (typeof workspace !== "string") return { ok: false, error: workspace };
    const { event, resource, resource_id, payloadJson } = verdict.value;
    const createdBy = principal.kind === "machine" ? principal.accessKey : principal.publicKey;
    const row: NewEventRow = {
      id: uuidv7(),
      workspace_id: workspace,
      event,
      resource: resource ?? null,
      resource_id: resource_id ?? null,
      payloadJson,
      created_by: createdBy,
    };
    return { ok: true, row };
  });

  const rows = outcomes.flatMap((o) => ("row" in o ? [o.row] : []));
  if (rows.length === 0) return outcomes as ItemOutcome<Event>[];
  const createdAt = (await insertEvents(deps.db, rows)).toISOString();
  return outcomes.map((o) => ("row" in o ? { ok: true, event: toEvent(o.row, createdAt) } : o));
}

/** Decides each valid item's workspace, or why it may not have one; one query at most. */
async function workspaceResolver(
  db: Db,
  principal: Principal,
  items: readonly ValidEventInput[],
): Promise<(item: ValidEventInput) => string | ItemError> {
  if (principal.kind === "publishableKey") {
    return (item) => (item.workspace === undefined || item.workspace === principal.workspaceId ? principal.workspaceId : foreignWorkspace);
  }
  const named = [...new Set(items.flatMap((i) => (i.workspace === undefined ? [] : [i.workspace])))];
  const allowed = await filterOrganizationWorkspaces(db, principal.organizationId, named);
  return (item) => {
    if (item.workspace === undefined) return missingWorkspace;
    return allowed.has(item.workspace) ? item.workspace : foreignWorkspace;
  };
}

function toEvent(row: NewEventRow, createdAt: string): Event {
  return {
    id: row.id,
    type: "event",
    workspace: row.workspace_id,
    event: row.event,
    resource: row.resource,
    resource_id: row.resource_id,
    status: "pending",
    created_by: row.created_by,
    created_at: createdAt,
  };
}
