import type {
  CreatedSession,
  LaunchedSession,
  ListSessionsData,
  Session,
  SessionInput,
  SessionLaunchPage,
  SessionList,
  SessionRecord,
  SessionRevoked,
  SessionScope,
} from "@switchyard/client";
import { type Db, inTransaction } from "@switchyard/db";
import { uuidPattern } from "@switchyard/event-intake";
import type { LaunchPrincipal, Principal } from "../auth/principal.js";
import { generateAccessToken, generateLaunchToken } from "../auth/sessionTokens.js";
import { pageParams, pageWindow, toPage } from "../http/cursorPage.js";
import { BadRequestError, ConflictError, NotFoundError, UnauthorizedError } from "../http/errors.js";
import { optionalField } from "../http/optionalField.js";
import { uuidv7 } from "../ids.js";
import { mustFindWorkspace } from "../workspaces/workspaces.service.js";
import { normaliseAllowedOrigins } from "./allowedOrigins.js";
import {
  consumeLaunchToken,
  extendSession,
  insertSession,
  insertSessionToken,
  listSessions,
  lockOrganizationSession,
  type NewSession,
  revokeOrganizationSession,
  type SessionRow,
} from "./sessions.repository.js";

/**
 * How long a session's earlier access tokens stay valid after a refresh: long enough for a request the
 * embedded page sent with the old token to finish, short enough that a leaked old token soon stops working.
 */
export const previousTokenGraceSeconds = 60;

/** The path of the embedded dashboard's launch page; the launch token follows in the URL's fragment. */
export const launchPath = "/dashboard/launch";

type MachineCaller = Extract<Principal, { kind: "machine" }>;

/**
 * Mints a session for a workspace of the caller's organization (404 for any other): its row, its first access
 * token and its launch token, in one transaction. The tokens are answered once; only their hashes are kept.
 */
export async function createSession(db: Db, caller: MachineCaller, input: SessionInput, publicBase: string): Promise<CreatedSession> {
  const plan = planSession(input);
  await mustFindWorkspace(db, caller.organizationId, input.workspace_id);
  const access = generateAccessToken();
  const launch = generateLaunchToken();
  return inTransaction(db, async (trx) => {
    const row = await insertSession(trx, { ...plan, id: uuidv7(), created_by: caller.accessKey, launch_token_hash: launch.hash });
    await insertSessionToken(trx, row.id, access.hash);
    return {
      ...toSession(row, access.token),
      launch_token: launch.token,
      launch_expires_at: row.launch_expires_at.toISOString(),
      launch_url: `${publicBase}${launchPath}#${launch.token}`,
      launch_page: row.launch_page as SessionLaunchPage,
      scopes: row.scopes as SessionScope[],
      allowed_origins: row.allowed_origins,
      ...optionalField("external_user_id", row.external_user_id),
    };
  });
}

/** One page of a workspace's sessions, newest first; expired ones included (`is_expired`). */
export async function listSessionPage(db: Db, organizationId: string, query: NonNullable<ListSessionsData["query"]>): Promise<SessionList> {
  const page = pageParams(query);
  const window = pageWindow(page);
  await mustFindWorkspace(db, organizationId, query.workspace_id);
  const filter = { workspaceId: query.workspace_id, status: query.status, resource: query.resource, resourceId: query.resource_id };
  return toPage(await listSessions(db, filter, window), page.limit, toSessionRecord);
}

/**
 * A new access token, the session extended by its TTL from now, and its earlier tokens cut to
 * `previousTokenGraceSeconds`. An expired session may be refreshed; a revoked one may not (409).
 */
export async function refreshSession(db: Db, organizationId: string, id: string): Promise<Session> {
  if (!uuidPattern.test(id)) throw sessionNotFound();
  return inTransaction(db, async (trx) => {
    const row = await lockOrganizationSession(trx, organizationId, id);
    if (row === undefined) throw sessionNotFound();
    if (row.revoked_at !== null) throw new ConflictError("The session is revoked; mint a new one.");
    const extended = await extendSession(trx, row.id, previousTokenGraceSeconds);
    const access = generateAccessToken();
    await insertSessionToken(trx, row.id, access.hash);
    return toSession(extended, access.token);
  });
}

/** Revokes every token of the session at once. Idempotent: an already revoked session answers the same. */
export async function revokeSession(db: Db, organizationId: string, id: string): Promise<SessionRevoked> {
  if (!uuidPattern.test(id) || !(await revokeOrganizationSession(db, organizationId, id))) throw sessionNotFound();
  return { revoked: true };
}

/**
 * Exchanges a launch token, once, for a new access token of its session (valid until the session expires,
 * which the exchange does not extend). A token used meanwhile, or one that expired since authentication, is 401.
 */
export async function launchSession(db: Db, caller: LaunchPrincipal): Promise<LaunchedSession> {
  return inTransaction(db, async (trx) => {
    const row = await consumeLaunchToken(trx, caller.sessionId, caller.launchTokenHash);
    if (row === undefined) throw new UnauthorizedError("The launch token was already used or has expired.");
    const access = generateAccessToken();
    await insertSessionToken(trx, row.id, access.hash);
    return { ...toSession(row, access.token), launch_page: row.launch_page as SessionLaunchPage };
  });
}

/** The row a session input makes, with Meshes' defaults; 400 for what the spec cannot say (fields that go together). */
function planSession(input: SessionInput): Omit<NewSession, "id" | "created_by" | "launch_token_hash"> {
  const sessionType = input.session_type ?? "workspace";
  checkResourceBinding(sessionType, input);
  return {
    workspace_id: input.workspace_id,
    role: input.role ?? "member",
    session_type: sessionType,
    external_user_id: input.external_user_id ?? null,
    resource: input.resource ?? null,
    resource_id: input.resource_id ?? null,
    allowed_origins: normaliseAllowedOrigins(input.allowed_origins ?? []),
    scopes: [...new Set<string>(input.scopes ?? [])],
    launch_page: input.launch_page ?? "dashboard",
    ttl_seconds: input.ttl_seconds ?? 1800,
    launch_ttl_seconds: input.launch_ttl_seconds ?? 30,
  };
}

/** A resource session names its resource and id; the other kinds name neither (they would not restrict them). */
function checkResourceBinding(sessionType: string, input: SessionInput): void {
  const named = (["resource", "resource_id"] as const).filter((field) => input[field] !== undefined);
  if (sessionType === "resource") {
    const missing = (["resource", "resource_id"] as const).filter((field) => !named.includes(field));
    if (missing.length > 0) {
      throw new BadRequestError(
        "A resource session needs resource and resource_id.",
        missing.map((param) => ({ param, msg: "is required when session_type is resource" })),
      );
    }
  } else if (named.length > 0) {
    throw new BadRequestError(
      `A ${sessionType} session is not bound to a resource; use session_type resource.`,
      named.map((param) => ({ param, msg: "is only allowed when session_type is resource" })),
    );
  }
}

function toSession(row: SessionRow, accessToken: string): Session {
  return {
    session_id: row.id,
    access_token: accessToken,
    expires_in: row.expires_in,
    expires_at: row.expires_at.toISOString(),
    workspace_id: row.workspace_id,
    role: row.role,
    session_type: row.session_type,
    ...resourceOf(row),
  };
}

function toSessionRecord(row: SessionRow): SessionRecord {
  return {
    session_id: row.id,
    workspace_id: row.workspace_id,
    role: row.role,
    ...optionalField("external_user_id", row.external_user_id),
    status: row.revoked_at === null ? "active" : "revoked",
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    is_expired: row.is_expired,
    session_type: row.session_type,
    ...resourceOf(row),
    launch_page: row.launch_page as SessionLaunchPage,
    scopes: row.scopes as SessionScope[],
    allowed_origins: row.allowed_origins,
    created_by: row.created_by,
    ...optionalField("revoked_at", row.revoked_at?.toISOString()),
  };
}

/** Meshes declares `resource?` and `resource_id?`: left out, never null, when the session has none. */
function resourceOf(row: SessionRow): { resource?: string; resource_id?: string } {
  return {
    ...optionalField("resource", row.resource),
    ...optionalField("resource_id", row.resource_id),
  };
}

function sessionNotFound(): NotFoundError {
  return new NotFoundError("Session not found.");
}
