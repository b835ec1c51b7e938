import type { OAuthConnectionCompleted, OAuthConnectionInput } from "@switchyard/client";
import { type Request, type Response, Router } from "express";
import { machineHandler } from "../http/machineHandler.js";
import { publicBaseUrl } from "../http/publicBaseUrl.js";
import {
  type CallbackQuery,
  completeOAuthConnection,
  type OAuthDeps,
  reauthorizeConnection,
  startOAuthConnection,
} from "./oauthConnections.service.js";

/**
 * OAuth connections: start one (or re-authorize one) with a machine token, and the provider's redirect back,
 * public and identified by its `state` alone.
 */
export function oauthRouter(deps: OAuthDeps & { readonly publicUrl: string | undefined }): Router {
  const router = Router();
  router.post(
    "/api/v1/connections/oauth",
    machineHandler(
      (organizationId, req, createdBy) =>
        startOAuthConnection(deps, organizationId, req.body as OAuthConnectionInput, createdBy, publicBaseUrl(req, deps.publicUrl)),
      201,
    ),
  );
  router.post(
    "/api/v1/connections/:id/oauth",
    machineHandler<"id">(
      (organizationId, req, createdBy) =>
        reauthorizeConnection(deps, organizationId, req.params.id, createdBy, publicBaseUrl(req, deps.publicUrl)),
      201,
    ),
  );
  router.get("/api/v1/oauth/callback", async (req: Request, res: Response) => {
    // The validator has checked the query against the spec (a provider's further parameters are ignored).
    const completed = await completeOAuthConnection(deps, req.query as unknown as CallbackQuery);
    res.set({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });
    if (req.accepts(["text/html", "application/json"]) === "application/json") {
      res.status(200).json(completed);
      return;
    }
    res
      .status(200)
      .set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
      .type("html")
      .send(callbackPage(completed));
  });
  return router;
}

/** The page the user lands on after consenting: the connection, named; nothing to run. */
function callbackPage({ connection, reauthorized }: OAuthConnectionCompleted): string {
  const name = escapeHtml(connection.name);
  const what = reauthorized ? "was re-authorized and is active again" : "was created";
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Connection ${reauthorized ? "re-authorized" : "created"}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .25rem}</style></head>
<body>
<h1>${escapeHtml(connection.type)} connection ${reauthorized ? "re-authorized" : "created"}</h1>
<p>The connection <strong>${name}</strong> ${what}.</p>
<p>Connection id: <code>${escapeHtml(connection.id)}</code></p>
<p>You can close this window.</p>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
