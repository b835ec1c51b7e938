import type { Db, EmbedSessionRow, SessionRole, SessionType, StatementRunner } from "@switchyard/db";
import { sql } from "kysely";
import { fetchPage, type PageWindow } from "../http/cursorPage.js";
import { organizationWorkspaceIds } from "../workspaces/workspaces.repository.js";

/** A session as the answers show it, with the database's verdict on its expiry (time is the database's). */
export type SessionRow = Omit<EmbedSessionRow, "launch_token_hash" | "launch_used_at"> & {
  /** Whole seconds from now until `expires_at`, never negative. */
  readonly expires_in: number;
  readonly is_expired: boolean;
};

const columns = [
  "id",
  "workspace_id",
  "role",
  "session_type",
  "external_user_id",
  "resource",
  "resource_id",
  "allowed_origins",
  "scopes",
  "launch_page",
  "ttl_seconds",
  "created_by",
  "created_at",
  "expires_at",
  "revoked_at",
  "launch_expires_at",
] as const;

const verdict = [
  sql<number>`greatest(0, floor(extract(epoch from expires_at - now())))::int`.as("expires_in"),
  sql<boolean>`expires_at <= now()`.as("is_expired"),
] as const;

export interface NewSession {
  readonly id: string;
  readonly workspace_id: string;
  readonly role: SessionRole;
  readonly session_type: SessionType;
  readonly external_user_id: string | null;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly allowed_origins: string[];
  readonly scopes: string[];
  readonly launch_page: string;
  readonly ttl_seconds: number;
  readonly launch_ttl_seconds: number;
  readonly created_by: string;
  readonly launch_token_hash: Buffer;
}

/** Stores a session; its expiries are counted from the database's clock, as every check of them is. */
export async function insertSession(trx: Db, session: NewSession): Promise<SessionRow> {
  const { launch_ttl_seconds, ...row } = session;
  return trx
    .insertInto("embed_sessions")
    .values({
      ...row,
      expires_at: sql<Date>`now() + make_interval(secs => ${row.ttl_seconds})`,
      launch_expires_at: sql<Date>`now() + make_interval(secs => ${launch_ttl_seconds})`,
    })
    .returning([...columns, ...verdict])
    .executeTakeFirstOrThrow();
}

/** Stores an access token (its hash) of a session, valid until the session's current expiry. */
export async function insertSessionToken(trx: Db, sessionId: string, tokenHash: Buffer): Promise<void> {
  await trx
    .insertInto("embed_session_tokens")
    .values({
      token_hash: tokenHash,
      session_id: sessionId,
      expires_at: sql<Date>`(select expires_at from embed_sessions where id = ${sessionId})`,
    })
    .execute();
}

/** What authenticating an access token needs of its session. */
export interface SessionOfToken {
  readonly token_hash: Buffer;
  readonly id: string;
  readonly organization_id: string;
  readonly workspace_id: string;
  readonly role: SessionRole;
  readonly session_type: SessionType;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly allowed_origins: string[];
  readonly scopes: string[];
}

/**
 * The session of an access token that is unexpired, of a session neither expired nor revoked; undefined
 * otherwise. Every request with a session token asks this (one primary-key lookup and two joins by primary
 * key), so it runs prepared by name on the pg pool.
 */
export async function findSessionOfAccessToken(pool: StatementRunner, tokenHash: Buffer): Promise<SessionOfToken | undefined> {
  const result = await pool.query<SessionOfToken>({
    name: "switchyard_find_session_of_token",
    text: `select t.token_hash, s.id, w.organization_id, s.workspace_id, s.role, s.session_type, s.resource, s.resource_id,
             s.allowed_origins, s.scopes
           from embed_session_tokens t
           join embed_sessions s on s.id = t.session_id
           join workspaces w on w.id = s.workspace_id
           where t.token_hash = $1 and t.expires_at > now() and s.expires_at > now() and s.revoked_at is null`,
    values: [tokenHash],
  });
  return result.rows[0];
}

/** The session whose launch token this is, while that token is unused and unexpired and the session live. */
export async function findLaunchableSession(
  pool: StatementRunner,
  launchTokenHash: Buffer,
): Promise<{ id: string; launch_token_hash: Buffer } | undefined> {
  const result = await pool.query<{ id: string; launch_token_hash: Buffer }>({
    name: "switchyard_find_launchable_session",
    text: `select id, launch_token_hash from embed_sessions
           where launch_token_hash = $1 and launch_used_at is null and launch_expires_at > now()
             and expires_at > now() and revoked_at is null`,
    values: [launchTokenHash],
  });
  return result.rows[0];
}

/** Marks the launch token used, if it still may be used (at most one caller ever gets the session back). */
export async function consumeLaunchToken(trx: Db, sessionId: string, launchTokenHash: Buffer): Promise<SessionRow | undefined> {
  return trx
    .updateTable("embed_sessions")
    .set({ launch_used_at: sql<Date>`now()` })
    .where("id", "=", sessionId)
    .where("launch_token_hash", "=", launchTokenHash)
    .where("launch_used_at", "is", null)
    .where(sql<boolean>`launch_expires_at > now() and expires_at > now()`)
    .where("revoked_at", "is", null)
    .returning([...columns, ...verdict])
    .executeTakeFirst();
}

/** The organization's session `id`, locked until the transaction ends; undefined when there is none. */
export async function lockOrganizationSession(trx: Db, organizationId: string, id: string): Promise<SessionRow | undefined> {
  return trx
    .selectFrom("embed_sessions")
    .select([...columns, ...verdict])
    .where("id", "=", id)
    .where("workspace_id", "in", organizationWorkspaceIds(trx, organizationId))
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Moves the session's expiry to its TTL from now, and caps its access tokens at `graceSeconds` from now (the
 * new token, inserted after, gets the new expiry).
 */
export async function extendSession(trx: Db, id: string, graceSeconds: number): Promise<SessionRow> {
  await trx
    .updateTable("embed_session_tokens")
    .set({ expires_at: sql<Date>`least(expires_at, now() + make_interval(secs => ${graceSeconds}))` })
    .where("session_id", "=", id)
    .execute();
  return trx
    .updateTable("embed_sessions")
    .set({ expires_at: sql<Date>`now() + make_interval(secs => ttl_seconds)` })
    .where("id", "=", id)
    .returning([...columns, ...verdict])
    .executeTakeFirstOrThrow();
}

/** Revokes the organization's session `id` (keeping the time of an earlier revocation); false when there is none. */
export async function revokeOrganizationSession(db: Db, organizationId: string, id: string): Promise<boolean> {
  const row = await db
    .updateTable("embed_sessions")
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where("id", "=", id)
    .where("workspace_id", "in", organizationWorkspaceIds(db, organizationId))
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}

export interface SessionFilter {
  /** Checked by the caller to be the organization's. */
  readonly workspaceId: string;
  readonly status?: "active" | "revoked" | undefined;
  readonly resource?: string | undefined;
  readonly resourceId?: string | undefined;
}

/** One page of a workspace's sessions, newest first (`fetchPage`). */
export async function listSessions(db: Db, filter: SessionFilter, page: PageWindow): Promise<SessionRow[]> {
  let query = db
    .selectFrom("embed_sessions")
    .select([...columns, ...verdict])
    .where("workspace_id", "=", filter.workspaceId);
  if (filter.status === "active") query = query.where("revoked_at", "is", null);
  if (filter.status === "revoked") query = query.where("revoked_at", "is not", null);
  if (filter.resource !== undefined) query = query.where("resource", "=", filter.resource);
  if (filter.resourceId !== undefined) query = query.where("resource_id", "=", filter.resourceId);
  return fetchPage(query, "id", "desc", page);
}

/** Where an event is, for the session checks: its workspace and resource; undefined when there is no such event. */
export async function findEventPlace(
  pool: StatementRunner,
  eventId: string,
): Promise<{ workspace_id: string; resource: string | null; resource_id: string | null } | undefined> {
  const result = await pool.query<{ workspace_id: string; resource: string | null; resource_id: string | null }>({
    name: "switchyard_find_event_place",
    text: "select workspace_id, resource, resource_id from events where id = $1",
    values: [eventId],
  });
  return result.rows[0];
}
