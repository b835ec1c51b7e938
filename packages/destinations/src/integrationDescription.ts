/** A JSON Schema (draft 2020-12) document, as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** One thing a rule can ask a destination to do, named by the rule's `metadata.action` (`key`), in Meshes' terms. */
export interface IntegrationAction {
  /** What a rule stores in `metadata.action`, e.g. "send_webhook". */
  readonly key: string;
  readonly label: string;
  /** What the action acts on, e.g. "Webhook", "List", "Channel". */
  readonly noun: string;
  readonly description: string;
  /** What a rule of this action sets in its `metadata` besides `action`; absent for an action-only one (it relies on the mapping). */
  readonly inputs?: readonly IntegrationActionInput[];
}

/** One input of an action, written to the rule's `metadata[field]` (Meshes' `IntegrationActionInput`). */
export interface IntegrationActionInput {
  /** The rule metadata key: `id`, `value`, `template`, `title`, `subject`, `from`, `body`. */
  readonly field: string;
  readonly key: string;
  /**
   * `simple`: one item of the connection's action data (`GET /connections/{id}/actions`); `advanced`: an item and
   * a nested option of it (`id` and `value`); `field`: text typed in the rule.
   */
  readonly kind: "simple" | "advanced" | "field";
  readonly label: string;
  readonly required?: boolean;
  /** A `{{path}}` template rendered against the event payload; checked when the rule is written. */
  readonly template?: boolean;
  /** Longest text accepted; default 1024 (templates: the template limits). */
  readonly maxLength?: number;
  readonly description?: string;
}

/** One field of a connection form, as Meshes describes it; `key` is a key of the connection's `metadata`. */
export interface IntegrationAuthenticationField {
  readonly label: string;
  readonly key: string;
  readonly type: "text" | "password" | "select";
  readonly helpText?: string;
  readonly required?: boolean;
  readonly validate?: "url";
  readonly defaultValue?: string;
  readonly options?: readonly { readonly label: string; readonly value: string }[];
  /** Shown only while another field has this value (or one of these). */
  readonly dependsOn?: { readonly field: string; readonly value: string | readonly string[] };
}

/** How a connection authenticates to its provider, and the form that configures it. */
export interface IntegrationAuthentication {
  readonly type: "api_key" | "basic" | "none" | "oauth";
  readonly oauth?: { readonly version: 1 | 2 };
  readonly fields?: readonly IntegrationAuthenticationField[];
}

/** One destination field a mapping can write (Meshes' `ConnectionFieldDefinition`). */
export interface ConnectionFieldDefinition {
  readonly key: string;
  readonly label?: string;
  readonly type: "string" | "number" | "boolean" | "date" | "datetime" | "enum" | "multi_enum" | "json" | "object" | "array" | "unknown";
  readonly description?: string;
  readonly constraints?: {
    readonly format?: "email" | "phone" | "url" | "uuid" | "date" | "datetime" | "unknown";
    readonly required?: boolean;
    readonly read_only?: boolean;
    readonly max_length?: number;
    readonly min_length?: number;
    readonly pattern?: string;
    readonly min?: number;
    readonly max?: number;
    readonly allowed_values?: readonly string[];
  };
  readonly provider_meta?: Readonly<Record<string, unknown>>;
}

/**
 * What `GET /integrations` shows about one integration type. Field names are snake_case because the
 * object is served (reshaped into Meshes' `Integration`) as it is.
 */
export interface IntegrationDescription {
  readonly type: string;
  readonly name: string;
  readonly description: string;
  readonly authentication: IntegrationAuthentication;
  readonly actions: readonly IntegrationAction[];
  /**
   * The destination fields a connection's mapping can write, when they are the same for every connection of
   * the type; a plugin whose fields depend on the connected account loads them with `loadFields` instead.
   */
  readonly fields: readonly ConnectionFieldDefinition[];
  /** Schema of a connection's `metadata` (returned by the API), with defaults. */
  readonly metadata_schema: JsonSchema;
  /** Schema of a connection's `secrets` as a client sends them (stored encrypted, never returned). */
  readonly secrets_schema: JsonSchema;
  /** Paths of every write-only field, such as `secrets.password`. */
  readonly secret_fields: readonly string[];
}
