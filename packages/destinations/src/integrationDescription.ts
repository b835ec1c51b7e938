/** A JSON Schema (draft 2020-12) document, as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** One thing a rule can ask a destination to do, named by the rule's `metadata.action`. */
export interface IntegrationAction {
  readonly action: string;
  readonly name: string;
  readonly description: string;
}

/**
 * What `GET /integrations` shows about one integration type. Field names are snake_case because the
 * object is served as it is.
 */
export interface IntegrationDescription {
  readonly type: string;
  readonly name: string;
  readonly description: string;
  readonly actions: readonly IntegrationAction[];
  /** Schema of a connection's `metadata` (returned by the API), with defaults. */
  readonly metadata_schema: JsonSchema;
  /** Schema of a connection's `secrets` as a client sends them (stored encrypted, never returned). */
  readonly secrets_schema: JsonSchema;
  /** Paths of every write-only field, such as `secrets.password`. */
  readonly secret_fields: readonly string[];
}
