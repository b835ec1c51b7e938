import type { Request, RequestHandler, Response } from "express";
import { callerOrganizationOf, machinePrincipalOf } from "../auth/authenticate.js";

type Handle<Param extends string> = (organizationId: string, req: Request<Record<Param, string>>) => Promise<unknown>;

/**
 * The handler of an endpoint that only a machine token may call (every management endpoint): anything else
 * is refused 401 before `handle` runs. `handle` gets the caller's organization and the request; `Param` names
 * the route's path parameters it reads (write them as in the path: nothing checks the two agree). The
 * validator has checked path, query and body against the spec. What `handle` resolves to is the answer, sent
 * as JSON with `status`, or nothing when `status` is 204.
 */
export function machineHandler<Param extends string = never>(handle: Handle<Param>, status = 200): RequestHandler<Record<Param, string>> {
  return handlerOf((res) => machinePrincipalOf(res).organizationId, handle, status);
}

/**
 * As `machineHandler`, for the operations an embed session token may call too (those whose spec `security`
 * lists `sessionToken`; `auth/sessionAccess.ts` has held the session to its bounds before `handle` runs).
 */
export function callerHandler<Param extends string = never>(handle: Handle<Param>, status = 200): RequestHandler<Record<Param, string>> {
  return handlerOf(callerOrganizationOf, handle, status);
}

function handlerOf<Param extends string>(
  organizationOf: (res: Response) => string,
  handle: Handle<Param>,
  status: number,
): RequestHandler<Record<Param, string>> {
  return async (req, res) => {
    const answer = await handle(organizationOf(res), req);
    if (status === 204) res.status(204).end();
    else res.status(status).json(answer);
  };
}
