import type { MappingSchema } from "@switchyard/mapping";
import type { AddressPolicy } from "./addressPolicy.js";
import type { DeliveryContext } from "./deliveryContext.js";
import type { ConnectionFieldDefinition, IntegrationDescription } from "./integrationDescription.js";
import type { OAuthProvider } from "./providers/oauthProvider.js";

/** The stored event one delivery carries. */
export interface DeliveryEvent {
  readonly id: string;
  readonly workspace: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly createdAt: Date;
  readonly payload: Record<string, unknown>;
}

/** What the worker hands a destination for one attempt. */
export interface DeliveryRequest {
  /** The rule event id: stable across retries, so receivers can deduplicate (the webhook sends it as `webhook-id`). */
  readonly deliveryId: string;
  /** 1-based. */
  readonly attempt: number;
  readonly event: DeliveryEvent;
  readonly connection: ConnectionConfig;
  /** The rule's `metadata.action`, one of the plugin's `description.actions`. */
  readonly action: string;
  /** The rule that routed the event here: its `metadata` holds the action's inputs (`id`, `value`, `template`, `title`...). */
  readonly rule: DeliveryRule;
  /**
   * The connection's default mapping applied to the payload: destination field (`dest`) to value. Empty when the
   * mapping has no fields. A mapping that failed never reaches the plugin (the worker records `mapping_error`).
   */
  readonly mapped: Readonly<Record<string, unknown>>;
  /** The whole attempt, from resolving the host to the last byte read. */
  readonly timeoutMs: number;
  readonly now: () => Date;
}

/** The rule of one delivery, as a destination reads it. */
export interface DeliveryRule {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Why an attempt got no HTTP answer. */
export type AttemptFailure = "timeout" | "network" | "refused_address" | "mapping" | "internal";

/** The raw facts of one attempt. The worker's policy classifies them; a destination never decides retry or final. */
export interface AttemptFacts {
  readonly httpStatus?: number;
  /** Set exactly when there is no `httpStatus`. */
  readonly failure?: AttemptFailure;
  /** Human-readable detail, never a secret. */
  readonly message?: string;
  readonly durationMs: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly responseHeaders?: Record<string, string>;
  /** At most the first 16 KiB (16384 bytes) of the body, UTF-8 decoded. */
  readonly responseBody?: string;
  /** The answer's `Retry-After` (delay in seconds or an HTTP date) as milliseconds from now, if it had a valid one. */
  readonly retryAfterMs?: number;
  /**
   * What the provider's answer means, when its HTTP status alone does not say it (Slack answers 200 with
   * `{"ok": false, "error": "invalid_auth"}`; an API may answer 400 for an expired token). The worker's policy
   * honours it over the status: `rate_limited` and `rejected_server_error` are retried (after `retryAfterMs` if
   * set), the others are final. Absent: the status decides.
   */
  readonly providerOutcome?: ProviderOutcome;
  /** What was sent, with credentials replaced by "[redacted]". Absent when nothing was built (a mapping or internal failure). */
  readonly request?: {
    readonly method: string;
    readonly url: string;
    readonly headers: Record<string, string>;
    readonly bodyBytes: number;
  };
}

/** A provider's answer classified by the plugin that understands it (see `AttemptFacts.providerOutcome`). */
export type ProviderOutcome = "delivered" | "rate_limited" | "auth_failed" | "rejected_client_error" | "rejected_server_error";

/** One invalid field of a connection's config, as the error envelope's `data` carries it. */
export interface ConfigError {
  /** Dotted path such as `metadata.url` or `secrets.password`. */
  readonly param: string;
  readonly msg: string;
}

export interface ParseConfigInput<M, S> {
  /** The complete metadata (an update replaces it; absent optional fields take their defaults again). */
  readonly metadata: unknown;
  /** Secrets sent by the client; on update, fields not sent keep their `previous` value (clients cannot read them back). */
  readonly secrets?: unknown;
  /** The connection's stored config, on update. */
  readonly previous?: { readonly metadata: M; readonly secrets: S };
  /**
   * Set only by the OAuth callback: the metadata and secrets come from a grant the server just completed, not
   * from a caller. A plugin whose metadata names something only a grant can vouch for (Discord's server, which
   * the operator's shared bot posts to) refuses it from anyone else.
   */
  readonly fromGrant?: boolean;
}

export type ParseConfigResult<M, S> =
  | { readonly ok: true; readonly metadata: M; readonly secrets: S }
  | { readonly ok: false; readonly errors: ConfigError[] };

/** A stored connection as a plugin reads it: its config exactly as `parseConfig` returned it (secrets opened). */
export interface ConnectionConfig {
  readonly id: string;
  readonly metadata: unknown;
  readonly secrets: unknown;
}

/** One thing of the connected account an action can target (a list, a tag, a channel, a template). */
export interface ActionItem {
  /** What a rule stores in `metadata.id` to target it. */
  readonly id: string;
  readonly label: string;
  /** For actions that take an item and a nested option (`metadata.value`). */
  readonly options?: readonly { readonly label: string; readonly value: string }[];
}

/** A kind of destination ("integration type"): how its connections are configured and how one attempt is made. */
export interface DestinationPlugin<M = unknown, S = unknown> {
  /** The integration type id, e.g. "webhook". */
  readonly type: string;
  /** Self-describing metadata for `GET /integrations`. */
  readonly description: IntegrationDescription;
  /** Validates and normalizes a connection's config for create and update. Pure apart from generating secrets. */
  parseConfig(input: ParseConfigInput<M, S>, policy: AddressPolicy): ParseConfigResult<M, S>;
  /** Makes one attempt. Never rejects: every outcome, including a bug, is reported as facts. */
  deliver(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts>;
  /**
   * The connected account's items for each action, by action key (`GET /connections/{id}/actions`), asked of
   * the provider on every call. Absent: the plugin has no live data, and its actions are answered with no items.
   */
  loadActionData?(connection: ConnectionConfig, context: DeliveryContext): Promise<Readonly<Record<string, readonly ActionItem[]>>>;
  /**
   * The connection's destination fields, asked of the provider when its catalog is made (first read, refresh).
   * Absent: `description.fields`, the same for every connection of the type.
   */
  loadFields?(connection: ConnectionConfig, context: DeliveryContext): Promise<readonly ConnectionFieldDefinition[]>;
  /**
   * The mapping a new connection of this type starts with (status `generated`), writing the fields its actions
   * read from the payload Meshes documents (`email`, `first_name`...). Absent: no fields (the webhook sends the
   * payload as it came).
   */
  readonly defaultMapping?: MappingSchema;
  /**
   * How the provider's OAuth 2.0 authorization server is reached, for an `oauth` integration: the connection's
   * secrets are the tokens it grants, refreshed by the worker before they expire and once on `auth_failed`.
   */
  readonly oauth?: OAuthProvider;
}
