import type { Request, RequestHandler } from "express";
import { machinePrincipalOf } from "../auth/authenticate.js";
import type { Principal } from "../auth/principal.js";

/** The caller of a management endpoint: its organization and access key (what `created_by` records). */
export type MachineCaller = Extract<Principal, { kind: "machine" }>;

/**
 * The handler of an endpoint that only a machine token may call (every management endpoint): anything else
 * is refused 401 before `handle` runs. `handle` gets the caller's organization, the request and the caller; `Param` names
 * the route's path parameters it reads (write them as in the path: nothing checks the two agree). The
 * validator has checked path, query and body against the spec. What `handle` resolves to is the answer, sent
 * as JSON with `status`, or nothing when `status` is 204.
 */
export function machineHandler<Param extends string = never>(
  handle: (organizationId: string, req: Request<Record<Param, string>>, caller: MachineCaller) => Promise<unknown>,
  status = 200,
): RequestHandler<Record<Param, string>> {
  return async (req, res) => {
    const caller = machinePrincipalOf(res);
    const answer = await handle(caller.organizationId, req, caller);
    if (status === 204) res.status(204).end();
    else res.status(status).json(answer);
  };
}
