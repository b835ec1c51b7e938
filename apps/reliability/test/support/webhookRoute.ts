import { createClient, createConfig, createConnection, createRule, mintMachineToken } from "@switchyard/client";
import type { Tenant } from "./deployment.js";

/** The ids of a webhook connection and the rule routing one event name to it. */
export interface WebhookRoute {
  readonly connectionId: string;
  readonly ruleId: string;
}

/** Creates a webhook connection to `url` and a rule sending `event` to it, through the API with a machine JWT. */
export async function addWebhookRoute(baseUrl: string, tenant: Tenant, event: string, url: string): Promise<WebhookRoute> {
  const client = createClient(createConfig({ baseUrl }));
  const connection = await createConnection({
    client,
    headers: { Authorization: `Bearer ${await mintMachineToken(tenant.machine)}` },
    body: { workspace: tenant.workspaceId, integration_type: "webhook", name: `${event} receiver`, metadata: { url } },
  });
  const connectionId = connection.data?.connection.id;
  if (connectionId === undefined)
    throw new Error(`connection for ${event}: ${connection.response?.status} ${JSON.stringify(connection.error)}`);
  const rule = await createRule({
    client,
    headers: { Authorization: `Bearer ${await mintMachineToken(tenant.machine)}` },
    body: { connection: connectionId, event, metadata: { action: "send" } },
  });
  const ruleId = rule.data?.id;
  if (ruleId === undefined) throw new Error(`rule for ${event}: ${rule.response?.status} ${JSON.stringify(rule.error)}`);
  return { connectionId, ruleId };
}
