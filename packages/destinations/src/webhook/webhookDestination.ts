import { performance } from "node:perf_hooks";
import { type DeliveryContext, systemLookup } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { sendHttpRequest } from "../sendHttpRequest.js";
import { buildWebhookRequest, type WebhookHttpRequest } from "./buildWebhookRequest.js";
import { signingSecretProblem } from "./signingSecret.js";
import {
  authSchemes,
  authSecretFields,
  httpMethods,
  parseWebhookConfig,
  payloadModes,
  signatureAlgorithms,
  type WebhookMetadata,
  type WebhookSecrets,
} from "./webhookConfig.js";
import { webhookDescription } from "./webhookDescription.js";

/** The webhook destination: one signed JSON request per attempt (wrapped or raw payload, HMAC-signed). Its only action is "send_webhook". */
export const webhookDestination: DestinationPlugin<WebhookMetadata, WebhookSecrets> = {
  type: "webhook",
  description: webhookDescription,
  parseConfig: parseWebhookConfig,
  async deliver(request, context): Promise<AttemptFacts> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      return await deliverWebhook(request, context, elapsed);
    } catch (error) {
      // A bug, not the destination's doing: reported like any other outcome so the worker records it.
      return {
        failure: "internal",
        message: `the attempt failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
        durationMs: elapsed(),
      };
    }
  },
};

async function deliverWebhook(request: DeliveryRequest, context: DeliveryContext, elapsed: () => number): Promise<AttemptFacts> {
  const actions = webhookDescription.actions.map((a) => a.key);
  if (!actions.includes(request.action)) {
    return {
      failure: "mapping",
      message: `a webhook has no action "${request.action}" (it has: ${actions.join(", ")})`,
      durationMs: elapsed(),
    };
  }
  const { metadata, secrets } = request.connection;
  if (!isWebhookMetadata(metadata) || !isWebhookSecrets(secrets, metadata)) {
    return {
      failure: "internal",
      message: `connection ${request.connection.id} has no valid stored webhook config`,
      durationMs: elapsed(),
    };
  }

  let webhook: WebhookHttpRequest;
  try {
    webhook = buildWebhookRequest({ deliveryId: request.deliveryId, event: request.event, metadata, secrets, sentAt: request.now() });
  } catch (error) {
    return {
      failure: "mapping",
      message: `the event could not be serialized: ${error instanceof Error ? error.message : String(error)}`,
      durationMs: elapsed(),
    };
  }

  const outcome = await sendHttpRequest({
    url: webhook.url,
    method: webhook.method,
    headers: webhook.headers,
    body: webhook.body,
    timeoutMs: request.timeoutMs,
    policy: context.addressPolicy,
    lookup: context.lookup ?? systemLookup,
    now: request.now,
  });
  return {
    ...outcome,
    durationMs: elapsed(),
    request: {
      method: webhook.method,
      url: webhook.url.href,
      headers: { ...webhook.loggedHeaders, "Content-Length": String(webhook.body.length) },
      bodyBytes: webhook.body.length,
    },
  };
}

/** A shape check of stored config (it passed `parseConfig` when written): a defect there is an internal failure, not a crash. */
function isWebhookMetadata(value: unknown): value is WebhookMetadata {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.url === "string" &&
    URL.canParse(m.url) &&
    includes(httpMethods, m.http_method) &&
    includes(payloadModes, m.payload_mode) &&
    includes(authSchemes, m.auth_scheme) &&
    includes(signatureAlgorithms, m.signature_algorithm) &&
    typeof m.signature_header === "string" &&
    typeof m.headers === "object" &&
    m.headers !== null &&
    Object.values(m.headers).every((v) => typeof v === "string")
  );
}

function isWebhookSecrets(value: unknown, metadata: WebhookMetadata): value is WebhookSecrets {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  if (signingSecretProblem(s.signing_secret) !== undefined) return false;
  const previous = s.previous_signing_secret as Record<string, unknown> | undefined;
  if (previous !== undefined && (signingSecretProblem(previous.secret) !== undefined || typeof previous.expires_at !== "string"))
    return false;
  const needed: readonly string[] = authSecretFields[metadata.auth_scheme];
  return needed.every((field) => typeof s[field] === "string");
}

function includes<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return (allowed as readonly unknown[]).includes(value);
}
