import type { ListSessionsData, SessionInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { callerOf, machinePrincipalOf } from "../auth/authenticate.js";
import { UnauthorizedError } from "../http/errors.js";
import { machineHandler } from "../http/machineHandler.js";
import { publicBaseUrl } from "../http/publicBaseUrl.js";
import { createSession, launchSession, listSessionPage, refreshSession, revokeSession } from "./sessions.service.js";

export interface SessionsRouterDeps {
  readonly db: Db;
  /** `SWITCHYARD_PUBLIC_URL` when set: the start of launch URLs (else the origin each request was sent to). */
  readonly publicUrl: string | undefined;
}

/** Embed sessions: minted, listed, refreshed and revoked with a machine token; the launch exchange with a launch token. */
export function sessionsRouter(deps: SessionsRouterDeps): Router {
  const router = Router();
  const { db } = deps;

  router.post("/api/v1/sessions", async (req, res) => {
    const caller = machinePrincipalOf(res);
    res.status(201).json(await createSession(db, caller, req.body as SessionInput, publicBaseUrl(req, deps.publicUrl)));
  });
  router.get(
    "/api/v1/sessions",
    // The validator has checked the query against the spec.
    machineHandler((organizationId, req) => listSessionPage(db, organizationId, req.query as unknown as ListSessionsData["query"])),
  );
  router.post("/api/v1/sessions/launch", async (_req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== "launch") throw new UnauthorizedError("This endpoint takes a launch token (Authorization: Bearer sy_launch_…).");
    res.json(await launchSession(db, caller));
  });
  router.post(
    "/api/v1/sessions/:id/refresh",
    machineHandler<"id">((organizationId, req) => refreshSession(db, organizationId, req.params.id)),
  );
  router.delete(
    "/api/v1/sessions/:id",
    machineHandler<"id">((organizationId, req) => revokeSession(db, organizationId, req.params.id)),
  );

  return router;
}
