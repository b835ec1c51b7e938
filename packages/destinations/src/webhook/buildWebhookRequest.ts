import type { DeliveryEvent } from "../destinationPlugin.js";
import { activeSigningSecrets } from "./signingSecret.js";
import { signWebhook } from "./signWebhook.js";
import type { WebhookMetadata, WebhookSecrets } from "./webhookConfig.js";

export const userAgent = "Switchyard-Webhooks/1";
const redacted = "[redacted]";

/** One webhook, ready to send, with a copy of its headers fit for the attempt log. */
export interface WebhookHttpRequest {
  readonly method: WebhookMetadata["http_method"];
  readonly url: URL;
  readonly headers: Record<string, string>;
  /** `headers` with the credential replaced by "[redacted]". */
  readonly loggedHeaders: Record<string, string>;
  readonly body: Buffer;
}

export interface WebhookRequestInput {
  readonly deliveryId: string;
  readonly event: DeliveryEvent;
  readonly metadata: WebhookMetadata;
  readonly secrets: WebhookSecrets;
  readonly sentAt: Date;
}

/**
 * Serializes the body once and signs those exact bytes. Wrapped:
 * `{"uuid","event","resource","resource_id","payload","time_created","time_sent"}` (times in epoch ms).
 * Raw: the payload alone, the event in `X-Meshes-*` headers whose values are percent-encoded like
 * `encodeURIComponent` (so that any event or resource name fits in a header; plain names arrive unchanged).
 * Throws only if the payload cannot be serialized.
 */
export function buildWebhookRequest({ deliveryId, event, metadata, secrets, sentAt }: WebhookRequestInput): WebhookHttpRequest {
  const timeSent = sentAt.getTime();
  const body = Buffer.from(
    JSON.stringify(
      metadata.payload_mode === "raw"
        ? event.payload
        : {
            uuid: event.id,
            event: event.event,
            resource: event.resource,
            resource_id: event.resource_id,
            payload: event.payload,
            time_created: event.createdAt.getTime(),
            time_sent: timeSent,
          },
    ),
    "utf8",
  );

  const eventHeaders: Record<string, string> =
    metadata.payload_mode === "raw"
      ? {
          "X-Meshes-Event-Id": encodeURIComponent(event.id),
          "X-Meshes-Event": encodeURIComponent(event.event),
          ...(event.resource === null ? {} : { "X-Meshes-Resource": encodeURIComponent(event.resource) }),
          ...(event.resource_id === null ? {} : { "X-Meshes-Resource-Id": encodeURIComponent(event.resource_id) }),
          "X-Meshes-Workspace": encodeURIComponent(event.workspace),
          "X-Meshes-Time-Created": String(event.createdAt.getTime()),
          "X-Meshes-Time-Sent": String(timeSent),
        }
      : {};

  const signatures = signWebhook({
    id: deliveryId,
    timestamp: Math.floor(timeSent / 1000),
    body,
    secrets: activeSigningSecrets(secrets, sentAt),
    algorithm: metadata.signature_algorithm,
    signatureHeader: metadata.signature_header,
  });

  const auth = authHeader(metadata.auth_scheme, secrets);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": userAgent,
    ...metadata.headers,
    ...eventHeaders,
    ...signatures,
    ...(auth === undefined ? {} : { [auth.name]: auth.value }),
  };
  const loggedHeaders = auth === undefined ? headers : { ...headers, [auth.name]: redacted };
  return { method: metadata.http_method, url: new URL(metadata.url), headers, loggedHeaders, body };
}

function authHeader(scheme: WebhookMetadata["auth_scheme"], secrets: WebhookSecrets): { name: string; value: string } | undefined {
  switch (scheme) {
    case "none":
      return undefined;
    case "basic":
      return { name: "Authorization", value: `Basic ${Buffer.from(`${secrets.username}:${secrets.password}`, "utf8").toString("base64")}` };
    case "bearer":
      return { name: "Authorization", value: `Bearer ${secrets.token}` };
    case "custom_header":
      return { name: secrets.header_name ?? "", value: secrets.header_value ?? "" };
  }
}
