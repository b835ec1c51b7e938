import type { StatementRunner } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import type { RequestHandler, Response } from "express";
import { NotFoundError, UnauthorizedError } from "../http/errors.js";
import { type OpenApiSpec, securityByRoute } from "../http/openApiSpec.js";
import { findActiveAccessKey } from "../organizations/accessKeys.repository.js";
import { findActivePublishableKey } from "../workspaces/publishableKeys.repository.js";
import { parsePublishableKey, publicPartOf, publishableKeyMatches } from "./credentials.js";
import { verifyMachineToken } from "./machineToken.js";
import type { Principal } from "./principal.js";

export interface AuthenticateDeps {
  /** The server's pg pool: the key lookups run on it as statements prepared by name. */
  readonly pool: StatementRunner;
  readonly spec: OpenApiSpec;
  readonly secretBox: SecretBox;
  readonly jwtClockSkewSeconds: number;
}

/**
 * Authenticates each documented route with the security schemes the spec gives it, from the headers alone:
 * before any byte of the body is read and before any slot is held, so that an unknown caller costs one key
 * lookup and learns nothing about its input. A path under `/api/` that the spec does not document (for
 * that method) is answered 404 here too, its body unread.
 */
export function authenticate(deps: AuthenticateDeps): RequestHandler {
  const routes = securityByRoute(deps.spec);
  const findKey = async (accessKey: string) => {
    const row = await findActiveAccessKey(deps.pool, accessKey);
    return (
      row && {
        organizationId: row.organization_id,
        secretKey: deps.secretBox.open(row.secret_ciphertext, secretContext.accessKey(accessKey)),
      }
    );
  };

  return async (req, res, next) => {
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = routes.find((r) => r.method === method && r.pattern.test(req.path));
    if (route === undefined && /^\/api\//i.test(req.path)) throw new NotFoundError("No such route.");
    if (route === undefined || route.schemes.size === 0) return next();

    const authorization = req.get("authorization");
    const publishableKey = req.get("x-meshes-publishable-key");
    if (authorization !== undefined && route.schemes.has("machineJwt")) {
      const [scheme, token] = authorization.split(" ");
      if (scheme?.toLowerCase() !== "bearer" || !token) throw new UnauthorizedError("The Authorization header must be 'Bearer <jwt>'.");
      const verified = await verifyMachineToken(token, { findKey, clockSkewSeconds: deps.jwtClockSkewSeconds });
      return authenticated(res, next, { kind: "machine", ...verified });
    }
    if (publishableKey !== undefined && route.schemes.has("publishableKey")) {
      const parsed = parsePublishableKey(publishableKey);
      if (parsed === undefined) throw new UnauthorizedError("The publishable key is malformed.");
      const row = await findActivePublishableKey(deps.pool, parsed.keyId);
      if (row === undefined || row.workspace_id !== parsed.workspaceId || !publishableKeyMatches(publishableKey, row.key_hash)) {
        throw new UnauthorizedError("The publishable key is unknown or revoked.");
      }
      const principal = {
        kind: "publishableKey",
        workspaceId: row.workspace_id,
        workspaceActive: row.workspace_active,
        publicKey: publicPartOf(row.workspace_id, parsed.keyId),
      } as const;
      return authenticated(res, next, principal);
    }
    if (publishableKey !== undefined)
      throw new UnauthorizedError("This endpoint requires a machine token; publishable keys may only emit events.");
    throw new UnauthorizedError(
      "Credentials are required: a machine token (Authorization: Bearer) or a publishable key (X-Meshes-Publishable-Key).",
    );
  };
}

function authenticated(res: Response, next: () => void, principal: Principal): void {
  res.locals.principal = principal;
  next();
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new UnauthorizedError("Credentials are required.");
  return principal;
}

export function machinePrincipalOf(res: Response): Extract<Principal, { kind: "machine" }> {
  const principal = principalOf(res);
  if (principal.kind !== "machine") throw new UnauthorizedError("This endpoint requires a machine token.");
  return principal;
}
