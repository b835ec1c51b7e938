import type { StatementRunner } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import type { Request, RequestHandler, Response } from "express";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../http/errors.js";
import { type DocumentedRoute, type OpenApiSpec, securityByRoute } from "../http/openApiSpec.js";
import { findActiveAccessKey } from "../organizations/accessKeys.repository.js";
import { findLaunchableSession, findSessionOfAccessToken } from "../sessions/sessions.repository.js";
import { findActivePublishableKey } from "../workspaces/publishableKeys.repository.js";
import { parsePublishableKey, publicPartOf, publishableKeyMatches } from "./credentials.js";
import { verifyMachineToken } from "./machineToken.js";
import type { Caller, LaunchPrincipal, Principal, SessionPrincipal } from "./principal.js";
import { authorizeSession, checkSessionAccessTable } from "./sessionAccess.js";
import { accessTokenPrefix, launchTokenPrefix, tokenHashMatches, tokenHashOf } from "./sessionTokens.js";

export interface AuthenticateDeps {
  /** The server's pg pool: the key lookups run on it as statements prepared by name. */
  readonly pool: StatementRunner;
  readonly spec: OpenApiSpec;
  readonly secretBox: SecretBox;
  readonly jwtClockSkewSeconds: number;
  /** `SWITCHYARD_PUBLIC_URL` when set: the embedded pages' origin, which sessions may always be used from. */
  readonly publicUrl: string | undefined;
}

/**
 * Authenticates each documented route with the security schemes the spec gives it, from the headers alone:
 * before any byte of the body is read and before any slot is held, so that an unknown caller costs one key
 * lookup and learns nothing about its input. A path under `/api/` that the spec does not document (for
 * that method) is answered 404 here too, its body unread. A session token is also held, here, to what its
 * session allows (`sessionAccess.ts`).
 */
export function authenticate(deps: AuthenticateDeps): RequestHandler {
  checkSessionAccessTable(deps.spec);
  const routes = securityByRoute(deps.spec);
  const identify = identifier(deps);

  return async (req, res, next) => {
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = routes.find((r) => r.method === method && r.pattern.test(req.path));
    if (route === undefined && /^\/api\//i.test(req.path)) throw new NotFoundError("No such route.");
    if (route === undefined || route.schemes.size === 0) return next();
    res.locals.principal = await identify(req, route);
    next();
  };
}

/** Who `req` is, by the first credential it carries that `route` accepts; 401 (403 for a session out of bounds) otherwise. */
function identifier(deps: AuthenticateDeps): (req: Request, route: DocumentedRoute) => Promise<Caller> {
  const findKey = async (accessKey: string) => {
    const row = await findActiveAccessKey(deps.pool, accessKey);
    return (
      row && {
        organizationId: row.organization_id,
        secretKey: deps.secretBox.open(row.secret_ciphertext, secretContext.accessKey(accessKey)),
      }
    );
  };

  return async (req, route) => {
    const authorization = req.get("authorization");
    const publishableKey = req.get("x-meshes-publishable-key");
    const bearer = authorization === undefined ? undefined : bearerTokenOf(authorization);
    if (bearer?.startsWith(accessTokenPrefix)) return sessionOf(deps, bearer, route, req);
    if (bearer?.startsWith(launchTokenPrefix)) return launchOf(deps.pool, bearer, route);
    if (bearer !== undefined && route.schemes.has("machineJwt")) {
      const verified = await verifyMachineToken(bearer, { findKey, clockSkewSeconds: deps.jwtClockSkewSeconds });
      return { kind: "machine", ...verified };
    }
    if (publishableKey !== undefined && route.schemes.has("publishableKey")) return publishableKeyOf(deps.pool, publishableKey);
    if (publishableKey !== undefined)
      throw new UnauthorizedError("This endpoint requires a machine token; publishable keys may only emit events.");
    if (route.schemes.has("launchToken"))
      throw new UnauthorizedError("This endpoint requires a launch token (Authorization: Bearer sy_launch_…).");
    throw new UnauthorizedError(
      "Credentials are required: a machine token (Authorization: Bearer) or a publishable key (X-Meshes-Publishable-Key).",
    );
  };
}

function bearerTokenOf(authorization: string): string {
  const [scheme, token] = authorization.split(" ");
  if (scheme?.toLowerCase() !== "bearer" || !token) throw new UnauthorizedError("The Authorization header must be 'Bearer <token>'.");
  return token;
}

async function publishableKeyOf(pool: StatementRunner, publishableKey: string): Promise<Principal> {
  const parsed = parsePublishableKey(publishableKey);
  if (parsed === undefined) throw new UnauthorizedError("The publishable key is malformed.");
  const row = await findActivePublishableKey(pool, parsed.keyId);
  if (row === undefined || row.workspace_id !== parsed.workspaceId || !publishableKeyMatches(publishableKey, row.key_hash)) {
    throw new UnauthorizedError("The publishable key is unknown or revoked.");
  }
  return {
    kind: "publishableKey",
    workspaceId: row.workspace_id,
    workspaceActive: row.workspace_active,
    publicKey: publicPartOf(row.workspace_id, parsed.keyId),
  };
}

/**
 * A session's access token: one indexed lookup, then, on a route whose spec accepts session tokens, the
 * session's bounds (`authorizeSession`). A valid token on any other route is 403: the token is good, the
 * operation is not one a session may call (a 401 would tell the embedded page to refresh in vain).
 */
async function sessionOf(deps: AuthenticateDeps, token: string, route: DocumentedRoute, req: Request): Promise<SessionPrincipal> {
  const hash = tokenHashOf(token, "access");
  const row = hash === undefined ? undefined : await findSessionOfAccessToken(deps.pool, hash);
  if (hash === undefined || row === undefined || !tokenHashMatches(hash, row.token_hash)) {
    throw new UnauthorizedError("The session token is unknown, expired or revoked.");
  }
  if (!route.schemes.has("sessionToken")) throw new ForbiddenError("A session token may not call this operation.");
  const session: SessionPrincipal = {
    kind: "session",
    sessionId: row.id,
    organizationId: row.organization_id,
    workspaceId: row.workspace_id,
    role: row.role,
    scopes: row.scopes as SessionPrincipal["scopes"],
    sessionType: row.session_type,
    resource: row.resource ?? undefined,
    resourceId: row.resource_id ?? undefined,
    allowedOrigins: row.allowed_origins,
  };
  await authorizeSession({ pool: deps.pool, publicUrl: deps.publicUrl }, session, route, req);
  return session;
}

/** A launch token, only where the spec takes one (the launch exchange); unused, unexpired, of a live session. */
async function launchOf(pool: StatementRunner, token: string, route: DocumentedRoute): Promise<LaunchPrincipal> {
  if (!route.schemes.has("launchToken")) throw new UnauthorizedError("A launch token is only accepted by POST /api/v1/sessions/launch.");
  const hash = tokenHashOf(token, "launch");
  const row = hash === undefined ? undefined : await findLaunchableSession(pool, hash);
  if (hash === undefined || row === undefined || !tokenHashMatches(hash, row.launch_token_hash)) {
    throw new UnauthorizedError("The launch token is unknown, already used or expired.");
  }
  return { kind: "launch", sessionId: row.id, launchTokenHash: hash };
}

/** Whoever authenticated, with whatever credential the route accepts. */
export function callerOf(res: Response): Caller {
  const caller = res.locals.principal as Caller | undefined;
  if (caller === undefined) throw new UnauthorizedError("Credentials are required.");
  return caller;
}

/** A caller with a publishable key or a machine token (ingestion); a session credential is refused. */
export function principalOf(res: Response): Principal {
  const caller = callerOf(res);
  if (caller.kind !== "machine" && caller.kind !== "publishableKey")
    throw new UnauthorizedError("This endpoint requires a machine token or a publishable key.");
  return caller;
}

export function machinePrincipalOf(res: Response): Extract<Principal, { kind: "machine" }> {
  const principal = callerOf(res);
  if (principal.kind !== "machine") throw new UnauthorizedError("This endpoint requires a machine token.");
  return principal;
}

/**
 * The caller's organization, for the operations a session token may call too: a machine token's, or a
 * session's (held to its workspace, role, scopes and origins by `sessionAccess.ts` before the handler runs).
 */
export function callerOrganizationOf(res: Response): string {
  const principal = callerOf(res);
  if (principal.kind === "machine" || principal.kind === "session") return principal.organizationId;
  throw new UnauthorizedError("This endpoint requires a machine token or a session token.");
}
