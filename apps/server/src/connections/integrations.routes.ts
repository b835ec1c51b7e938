import type { IntegrationList } from "@switchyard/client";
import { destinations } from "@switchyard/destinations";
import { Router } from "express";
import { callerOrganizationOf } from "../auth/authenticate.js";

/** `GET /integrations`: what each destination plugin says about itself. */
export function integrationsRouter(): Router {
  const router = Router();
  const records = [...destinations.values()].map(({ description }) => ({
    id: description.type as IntegrationList["records"][number]["id"],
    name: description.name,
    description: description.description,
    actions: description.actions.map((a) => ({ id: a.action, name: a.name, description: a.description })),
    metadata_schema: { ...description.metadata_schema },
    secrets_schema: { ...description.secrets_schema },
  }));
  router.get("/api/v1/integrations", (_req, res) => {
    callerOrganizationOf(res);
    res.json({ count: records.length, records } satisfies IntegrationList);
  });
  return router;
}
