import type { PublishableKey, PublishableKeyCreated, Workspace, WorkspaceCreated, WorkspaceList } from "@switchyard/client";
import { type Db, inTransaction } from "@switchyard/db";
import { generatePublishableKey, publicPartOf } from "../auth/credentials.js";
import { pageWindow, toPage } from "../http/cursorPage.js";
import { NotFoundError } from "../http/errors.js";
import { optionalField } from "../http/optionalField.js";
import { uuidv7 } from "../ids.js";
import {
  findWorkspaceActivePublishableKeys,
  insertPublishableKey,
  type PublishableKeyRow,
  revokeActivePublishableKey,
} from "./publishableKeys.repository.js";
import {
  findWorkspace,
  insertWorkspace,
  listWorkspaces,
  lockWorkspace,
  updateWorkspaceRow,
  type WorkspaceChange,
  type WorkspaceRow,
} from "./workspaces.repository.js";

const defaultKeyName = "default";

/** Creates a workspace with its first publishable key, in one transaction; the full key is returned once. */
export async function createWorkspace(
  db: Db,
  organizationId: string,
  name: string,
  description: string | null = null,
): Promise<WorkspaceCreated> {
  return inTransaction(db, async (trx) => {
    const row = await insertWorkspace(trx, { id: uuidv7(), organization_id: organizationId, name, description });
    const key = await issuePublishableKey(trx, row.id, defaultKeyName);
    const { key: _fullKey, ...publicPart } = key;
    return { workspace: toWorkspace(row, publicPart), publishable_key: key };
  });
}

/** Issues a new publishable key and revokes the previous one in the same transaction. */
export async function rotatePublishableKey(db: Db, organizationId: string, workspaceId: string): Promise<PublishableKeyCreated> {
  return inTransaction(db, async (trx) => {
    // Lock the workspace row so that concurrent rotations serialize instead of racing the one-active-key index.
    if (!(await lockWorkspace(trx, organizationId, workspaceId))) throw new NotFoundError("Workspace not found.");
    const previousName = await revokeActivePublishableKey(trx, workspaceId);
    return issuePublishableKey(trx, workspaceId, previousName ?? defaultKeyName);
  });
}

/** The organization's workspace `id`; 404 when there is none (another organization's is "not found" too). */
export async function mustFindWorkspace(db: Db, organizationId: string, id: string): Promise<WorkspaceRow> {
  const row = await findWorkspace(db, organizationId, id);
  if (row === undefined) throw new NotFoundError("Workspace not found.");
  return row;
}

export async function getWorkspace(db: Db, organizationId: string, id: string): Promise<Workspace> {
  return withPublishableKey(db, await mustFindWorkspace(db, organizationId, id));
}

/** Sets the name, and the description and `active` when given (`description: null` clears it). */
export async function updateWorkspace(db: Db, organizationId: string, id: string, change: WorkspaceChange): Promise<Workspace> {
  const row = await updateWorkspaceRow(db, organizationId, id, change);
  if (row === undefined) throw new NotFoundError("Workspace not found.");
  return withPublishableKey(db, row);
}

export async function listWorkspacePage(
  db: Db,
  organizationId: string,
  page: { limit: number; cursor?: string | undefined },
  active?: boolean,
): Promise<WorkspaceList> {
  const rows = await listWorkspaces(db, organizationId, pageWindow(page), active);
  return toPage(rows, page.limit, (row) => toWorkspace(row));
}

async function issuePublishableKey(trx: Db, workspaceId: string, name: string): Promise<PublishableKeyCreated> {
  const key = generatePublishableKey(workspaceId);
  const row = await insertPublishableKey(trx, { id: key.id, workspace_id: workspaceId, name, key_hash: key.hash });
  return { ...toPublishableKey(row), key: key.key };
}

/** The workspace as the API shows it by id: with the public part of its active publishable key (it always has one). */
async function withPublishableKey(db: Db, row: WorkspaceRow): Promise<Workspace> {
  const [key] = await findWorkspaceActivePublishableKeys(db, [row.id]);
  return toWorkspace(row, key === undefined ? undefined : toPublishableKey(key));
}

function toPublishableKey(row: PublishableKeyRow): PublishableKey {
  return { public_key: publicPartOf(row.workspace_id, row.id), name: row.name, created_at: row.created_at.toISOString() };
}

function toWorkspace(row: WorkspaceRow, publishableKey?: PublishableKey): Workspace {
  return {
    id: row.id,
    type: "workspace",
    organization: row.organization_id,
    name: row.name,
    description: row.description,
    active: row.active,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    ...optionalField("publishable_key", publishableKey),
  };
}
