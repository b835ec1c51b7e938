import type { SessionRole, SessionScope } from "@switchyard/client";
import type { StatementRunner } from "@switchyard/db";
import { uuidPattern } from "@switchyard/event-intake";
import type { Request } from "express";
import { ForbiddenError, NotFoundError } from "../http/errors.js";
import type { DocumentedRoute, OpenApiSpec } from "../http/openApiSpec.js";
import { securityByRoute } from "../http/openApiSpec.js";
import { publicBaseUrl } from "../http/publicBaseUrl.js";
import { findEventPlace } from "../sessions/sessions.repository.js";
import type { SessionPrincipal } from "./principal.js";

/** What a session must stay within for an operation: its workspace (by path), its workspace's events, one of its events, or nothing. */
type Target = "workspace" | "workspaceEvents" | "event" | "none";

/** What a session token needs to call one operation. */
interface SessionOperation {
  /** The least role that may call it (member < admin < owner). */
  readonly role: SessionRole;
  /** A scope it needs besides the role. */
  readonly scope?: SessionScope;
  /** It changes something, so a read-only (`dashboard`) session may not call it. */
  readonly writes?: boolean;
  readonly target: Target;
}

/**
 * The one place that says what a session token may do (docs/sessions.md), by operationId: the operations whose
 * `security` in the spec lists `sessionToken`, and no other (`checkSessionAccessTable` holds the two equal at
 * start-up). Reads need `member`, retry and cancel `admin`; `owner` may do what `admin` may.
 */
export const sessionOperations: Readonly<Record<string, SessionOperation>> = {
  getWorkspace: { role: "member", target: "workspace" },
  listWorkspaceConnections: { role: "member", target: "workspace" },
  listWorkspaceRules: { role: "member", target: "workspace" },
  listWorkspaceEvents: { role: "member", target: "workspaceEvents" },
  getEvent: { role: "member", target: "event" },
  getEventPayload: { role: "member", scope: "events.payload:read", target: "event" },
  listDeliveryAttempts: { role: "member", target: "event" },
  listIntegrations: { role: "member", target: "none" },
  retryDelivery: { role: "admin", writes: true, target: "event" },
  cancelDelivery: { role: "admin", writes: true, target: "event" },
};

const roleRank: Readonly<Record<SessionRole, number>> = { member: 0, admin: 1, owner: 2 };

/** Fails start-up when the spec lets session tokens call an operation this table does not govern, or the reverse. */
export function checkSessionAccessTable(spec: OpenApiSpec): void {
  const inSpec = securityByRoute(spec)
    .filter((route) => route.schemes.has("sessionToken"))
    .map((route) => route.operationId ?? `${route.method} ${route.path}`);
  const inTable = Object.keys(sessionOperations);
  const differ = [...inSpec.filter((op) => !inTable.includes(op)), ...inTable.filter((op) => !inSpec.includes(op))];
  if (differ.length > 0)
    throw new Error(`sessionAccess and openapi.yaml disagree on which operations take a session token: ${differ.join(", ")}`);
}

export interface SessionAccessDeps {
  readonly pool: StatementRunner;
  /** `SWITCHYARD_PUBLIC_URL` when set: the embedded pages' own origin (else the origin the request was sent to). */
  readonly publicUrl: string | undefined;
}

/**
 * Lets a verified session token call `route` only within what the session allows, from the headers and path
 * alone (the body is not read yet), in this order: the `Origin` (403), the role, type and scope (403), then
 * the workspace, event or delivery named in the path (404 when it is not the session's, as another
 * organization's records are).
 */
export async function authorizeSession(
  deps: SessionAccessDeps,
  session: SessionPrincipal,
  route: DocumentedRoute,
  req: Request,
): Promise<void> {
  const operation = route.operationId === undefined ? undefined : sessionOperations[route.operationId];
  if (operation === undefined) throw new ForbiddenError("A session token may not call this operation.");
  checkOrigin(deps, session, req);
  checkPermission(session, operation);
  const params = pathParams(route.path, req.path);
  if (operation.target === "workspace" || operation.target === "workspaceEvents") checkWorkspace(session, params.id);
  if (operation.target === "workspaceEvents") checkResourceFilter(session, req.query);
  if (operation.target === "event") await checkEvent(deps.pool, session, params.id);
}

/**
 * With `allowed_origins`, a request that says where it comes from must come from one of them or from the
 * server's own pages (the embedded dashboard). A request without `Origin` (not from a browser's cross-origin
 * or unsafe-method fetch) is not refused: the header is the browser's statement, which other clients omit.
 */
function checkOrigin(deps: SessionAccessDeps, session: SessionPrincipal, req: Request): void {
  const origin = req.get("origin");
  if (origin === undefined || session.allowedOrigins.length === 0 || session.allowedOrigins.includes(origin)) return;
  if (origin === new URL(publicBaseUrl(req, deps.publicUrl)).origin) return;
  throw new ForbiddenError(`Origin ${origin} is not among the session's allowed_origins.`);
}

function checkPermission(session: SessionPrincipal, operation: SessionOperation): void {
  if (roleRank[session.role] < roleRank[operation.role]) {
    throw new ForbiddenError(`This operation needs the role ${operation.role} or higher; the session's role is ${session.role}.`);
  }
  if (operation.writes === true && session.sessionType === "dashboard") throw new ForbiddenError("A dashboard session is read-only.");
  if (operation.scope !== undefined && !session.scopes.includes(operation.scope)) {
    throw new ForbiddenError(`This operation needs the session scope ${operation.scope}.`);
  }
}

function checkWorkspace(session: SessionPrincipal, id: string | undefined): void {
  if (id?.toLowerCase() !== session.workspaceId) throw new NotFoundError("Workspace not found.");
}

/** A resource session lists events only filtered to its resource: it may not see the workspace's others. */
function checkResourceFilter(session: SessionPrincipal, query: Request["query"]): void {
  if (session.sessionType !== "resource") return;
  if (query.resource !== session.resource || query.resource_id !== session.resourceId) {
    throw new ForbiddenError(
      `A resource session lists only its own resource's events: pass resource=${session.resource}&resource_id=${session.resourceId}.`,
    );
  }
}

/** The event must be in the session's workspace and, for a resource session, of its resource. */
async function checkEvent(pool: StatementRunner, session: SessionPrincipal, id: string | undefined): Promise<void> {
  const place = id !== undefined && uuidPattern.test(id) ? await findEventPlace(pool, id) : undefined;
  const isTheSessions =
    place !== undefined &&
    place.workspace_id === session.workspaceId &&
    (session.sessionType !== "resource" || (place.resource === session.resource && place.resource_id === session.resourceId));
  if (!isTheSessions) throw new NotFoundError("Event not found.");
}

/** The values of the `{param}` segments of the spec path `template` in the request path `path`. */
function pathParams(template: string, path: string): Record<string, string | undefined> {
  const actual = path.split("/");
  const params: Record<string, string | undefined> = {};
  template.split("/").forEach((segment, i) => {
    const name = /^\{(.+)\}$/.exec(segment)?.[1];
    if (name !== undefined) params[name] = decodeSegment(actual[i]);
  });
  return params;
}

function decodeSegment(segment: string | undefined): string | undefined {
  try {
    return segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
