import { type BulkEventRecord, createEventsBulk, type EventInput, getEvent, listDeliveryAttempts } from "@switchyard/client";
import {
  type Answer,
  bearer,
  createWebhookRoute,
  type Receiver,
  startReceiver,
  type Tenant,
  type WebhookRoute,
  type WebhookRouteOptions,
  waitFor,
} from "@switchyard/testing";
import type { TestServer } from "./testServer.js";

/** A webhook connection to a scripted receiver and a rule routing `event` to it, made through the API. */
export interface ReceiverRoute extends WebhookRoute {
  readonly receiver: Receiver;
}

export interface RouteOptions extends WebhookRouteOptions {
  /** How the receiver answers (the last answer repeats). Default: 200. */
  readonly script?: readonly Answer[];
  /** Route to this receiver instead of starting one. */
  readonly receiver?: Receiver;
}

/**
 * Starts a receiver (closed by `closers`) and routes `event` of the tenant's workspace to it. Every helper
 * here goes through the generated client, as a user's code would.
 */
export async function routeToReceiver(
  server: TestServer,
  tenant: Tenant,
  event: string,
  options: RouteOptions & { readonly closers: Array<() => Promise<void>> },
): Promise<ReceiverRoute> {
  const receiver = options.receiver ?? (await startReceiver(options.script ?? [{ status: 200 }]));
  if (options.receiver === undefined) options.closers.push(receiver.close);
  return { receiver, ...(await createWebhookRoute(server.client, tenant, event, receiver.url, options)) };
}

/** Emits one event with the workspace's publishable key, as a browser would; answers the stored event. */
export async function emitEvent(
  server: TestServer,
  tenant: Tenant,
  input: Omit<EventInput, "payload"> & { readonly payload?: EventInput["payload"] },
): Promise<BulkEventRecord> {
  const { data } = await createEventsBulk({
    client: server.client,
    headers: { "X-Meshes-Publishable-Key": tenant.publishableKey },
    body: [{ payload: {}, ...input }],
  });
  const record = data?.records[0];
  if (record?.type !== "event") throw new Error(`emit failed: ${JSON.stringify(data)}`);
  return record;
}

export async function eventDetail(server: TestServer, tenant: Tenant, id: string) {
  const { data } = await getEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id } });
  if (data === undefined) throw new Error(`event ${id} not found`);
  return data;
}

/** The one delivery of an event through `ruleId`, once the worker has routed the event (moments after its 201). */
export async function deliveryOf(server: TestServer, tenant: Tenant, eventId: string, ruleId: string) {
  const throughRule = (detail: Awaited<ReturnType<typeof eventDetail>>) => detail.rule_events.find((r) => r.rule === ruleId);
  const routed = await waitFor(() => eventDetail(server, tenant, eventId), {
    what: `event ${eventId} to have its delivery through rule ${ruleId}`,
    until: (detail) => throughRule(detail) !== undefined,
  });
  return throughRule(routed) as NonNullable<ReturnType<typeof throughRule>>;
}

export async function attemptsOf(server: TestServer, tenant: Tenant, eventId: string, ruleId: string) {
  const { data } = await listDeliveryAttempts({
    client: server.client,
    headers: await bearer(tenant.machine),
    path: { id: eventId, ruleId },
  });
  if (data === undefined) throw new Error(`no attempts of event ${eventId} through rule ${ruleId}`);
  return data.records;
}

/** The request's Standard Webhooks headers, as a verifier takes them. */
export function standardWebhookHeaders(headers: Receiver["requests"][number]["headers"]): {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
} {
  return {
    "webhook-id": String(headers["webhook-id"]),
    "webhook-timestamp": String(headers["webhook-timestamp"]),
    "webhook-signature": String(headers["webhook-signature"]),
  };
}
