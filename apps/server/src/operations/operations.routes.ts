import { type Db, pingDatabase } from "@switchyard/db";
import { Router } from "express";
import { sendError } from "../http/errorHandler.js";
import { requestIdOf } from "../http/requestId.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "./metrics.js";

export interface OperationsDeps {
  readonly db: Db;
  /** How long `/readyz` waits for the database before answering 503. */
  readonly dbTimeoutMs: number;
  readonly metrics: Pick<Metrics, "registry">;
  readonly log: Logger;
}

/**
 * Unauthenticated endpoints for the platform running Switchyard, outside `/api` and the spec:
 * `GET /healthz` (the process answers), `GET /readyz` (it can reach its database: 200, else 503 in the
 * error envelope) and `GET /metrics` (Prometheus text format).
 */
export function operationsRouter(deps: OperationsDeps): Router {
  const router = Router();

  router.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    res.set("Cache-Control", "no-store");
    const failure = await databaseFailure(deps.db, deps.dbTimeoutMs);
    if (failure === undefined) {
      res.json({ status: "ok" });
      return;
    }
    deps.log.warn({ requestId: requestIdOf(res), err: failure }, "not ready: the database did not answer");
    sendError(res, { status: 503, name: "ServiceUnavailable", message: "The database is unavailable; retry later." });
  });

  router.get("/metrics", async (_req, res) => {
    const text = await deps.metrics.registry.metrics();
    res.set({ "Content-Type": deps.metrics.registry.contentType, "Cache-Control": "no-store" }).send(text);
  });

  return router;
}

/** Why the database cannot answer `select 1` within `timeoutMs`, or undefined when it can. */
async function databaseFailure(db: Db, timeoutMs: number): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([
      pingDatabase(db).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
