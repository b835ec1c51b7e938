import type { Request, RequestHandler, Response } from "express";
import { callerOf, machinePrincipalOf } from "../auth/authenticate.js";
import { UnauthorizedError } from "./errors.js";

/** The caller a handler acts for: its organization, and what a record it creates stores as `created_by`. */
interface Acting {
  readonly organizationId: string;
  readonly createdBy: string;
}

type Handle<Param extends string> = (organizationId: string, req: Request<Record<Param, string>>, createdBy: string) => Promise<unknown>;

/**
 * The handler of an endpoint that only a machine token may call (every management endpoint): anything else
 * is refused 401 before `handle` runs. `handle` gets the caller's organization, the request, and what a record
 * it creates stores as `created_by` (the caller's access key); `Param` names the route's path parameters it
 * reads (write them as in the path: nothing checks the two agree). The validator has checked path, query and
 * body against the spec. What `handle` resolves to is the answer, sent as JSON with `status`, or nothing when
 * `status` is 204.
 */
export function machineHandler<Param extends string = never>(handle: Handle<Param>, status = 200): RequestHandler<Record<Param, string>> {
  return handlerOf(
    (res) => {
      const machine = machinePrincipalOf(res);
      return { organizationId: machine.organizationId, createdBy: machine.accessKey };
    },
    handle,
    status,
  );
}

/**
 * As `machineHandler`, for the operations an embed session token may call too (those whose spec `security`
 * lists `sessionToken`; `auth/sessionAccess.ts` has held the session to its bounds before `handle` runs). A
 * session acts as `session:<session id>`.
 */
export function callerHandler<Param extends string = never>(handle: Handle<Param>, status = 200): RequestHandler<Record<Param, string>> {
  return handlerOf(actingCaller, handle, status);
}

function actingCaller(res: Response): Acting {
  const caller = callerOf(res);
  if (caller.kind === "machine") return { organizationId: caller.organizationId, createdBy: caller.accessKey };
  if (caller.kind === "session") return { organizationId: caller.organizationId, createdBy: `session:${caller.sessionId}` };
  throw new UnauthorizedError("This endpoint requires a machine token or a session token.");
}

function handlerOf<Param extends string>(
  actingOf: (res: Response) => Acting,
  handle: Handle<Param>,
  status: number,
): RequestHandler<Record<Param, string>> {
  return async (req, res) => {
    const acting = actingOf(res);
    const answer = await handle(acting.organizationId, req, acting.createdBy);
    if (status === 204) res.status(204).end();
    else res.status(status).json(answer);
  };
}
