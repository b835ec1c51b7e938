import { type Client, createConnection, createRule, type MachineCredentials, mintMachineToken } from "@switchyard/client";

/** An organization with an access key and one workspace with its publishable key: whom a test acts as. */
export interface Tenant {
  readonly organizationId: string;
  readonly workspaceId: string;
  readonly publishableKey: string;
  readonly machine: MachineCredentials;
}

/** The `Authorization` header of a request made with a fresh machine token, as the official SDKs make one per request. */
export async function bearer(machine: MachineCredentials): Promise<{ Authorization: string }> {
  return { Authorization: `Bearer ${await mintMachineToken(machine)}` };
}

export interface WebhookRouteOptions {
  /** Webhook metadata besides `url`. Default: none. */
  readonly metadata?: Record<string, unknown>;
  /** The connection's secrets. Default: none. */
  readonly secrets?: Record<string, unknown>;
  /** The rule's filters besides the event name. Default: none. */
  readonly filter?: { readonly resource?: string; readonly resource_id?: string };
}

/** A webhook connection and the rule routing one event name to it. */
export interface WebhookRoute {
  readonly connectionId: string;
  readonly ruleId: string;
  /** The signing secret the connection's creation answer showed, once. */
  readonly signingSecret: string;
}

/**
 * Creates a webhook connection to `url` in the tenant's workspace and a rule sending `event` to it, through
 * the API with machine tokens, as a user's code would; fails with the answer when either is refused (201 is due).
 */
export async function createWebhookRoute(
  client: Client,
  tenant: Tenant,
  event: string,
  url: string,
  options: WebhookRouteOptions = {},
): Promise<WebhookRoute> {
  const connection = await createConnection({
    client,
    headers: await bearer(tenant.machine),
    body: {
      workspace: tenant.workspaceId,
      type: "webhook",
      name: `hook for ${event}`,
      metadata: { url, ...options.metadata },
      ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
    },
  });
  if (connection.response?.status !== 201 || connection.data === undefined) {
    throw new Error(`connection for ${event}: ${connection.response?.status} ${JSON.stringify(connection.error)}`);
  }
  const rule = await createRule({
    client,
    headers: await bearer(tenant.machine),
    body: { connection: connection.data.connection.id, event, ...options.filter, metadata: { action: "send_webhook" } },
  });
  if (rule.response?.status !== 201 || rule.data === undefined) {
    throw new Error(`rule for ${event}: ${rule.response?.status} ${JSON.stringify(rule.error)}`);
  }
  return {
    connectionId: connection.data.connection.id,
    ruleId: rule.data.rule.id,
    signingSecret: String(connection.data.secrets.signing_secret),
  };
}
