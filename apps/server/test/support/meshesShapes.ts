/**
 * The shapes Meshes' clients declare for what the management API answers (the MCP server's `types.ts` and tool
 * results, the API client's README), written as checks of our own. A TypeScript interface allows extra properties,
 * so these do too; a property the interface marks optional (`name?: T`) must be absent or a T, never null; one
 * declared `T | null` may be null.
 */
export type Shape = (value: unknown, at: string, problems: string[]) => void;

/** The places where `value` departs from `shape`, each as `<path>: <what>`; empty when it fits. */
export function shapeProblems(shape: Shape, value: unknown): string[] {
  const problems: string[] = [];
  shape(value, "$", problems);
  return problems;
}

const describe = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);

const primitive =
  (type: "string" | "number" | "boolean"): Shape =>
  (value, at, problems) => {
    if (typeof value !== type) problems.push(`${at}: expected ${type}, got ${describe(value)}`);
  };

export const string = primitive("string");
export const number = primitive("number");
export const boolean = primitive("boolean");

export const integer: Shape = (value, at, problems) => {
  if (!Number.isInteger(value)) problems.push(`${at}: expected an integer, got ${JSON.stringify(value)}`);
};

/** An ISO 8601 timestamp as `Date#toISOString` writes it (Meshes' `created_at`, `updated_at`, …). */
export const timestamp: Shape = (value, at, problems) => {
  if (typeof value !== "string" || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d\d-\d\dT/.test(value)) {
    problems.push(`${at}: expected an ISO timestamp, got ${JSON.stringify(value)}`);
  }
};

export const uuid: Shape = (value, at, problems) => {
  if (typeof value !== "string" || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    problems.push(`${at}: expected a UUID, got ${JSON.stringify(value)}`);
  }
};

export function oneOf(...values: ReadonlyArray<string | number | boolean | null>): Shape {
  return (value, at, problems) => {
    if (!values.includes(value as string)) problems.push(`${at}: expected one of ${values.join(" | ")}, got ${JSON.stringify(value)}`);
  };
}

export function nullable(shape: Shape): Shape {
  return (value, at, problems) => {
    if (value !== null) shape(value, at, problems);
  };
}

export function either(...shapes: Shape[]): Shape {
  return (value, at, problems) => {
    const each = shapes.map((shape) => shapeProblems(shape, value));
    if (each.every((found) => found.length > 0))
      problems.push(`${at}: fits none of its alternatives (${each.map((p) => p[0]).join("; ")})`);
  };
}

export function arrayOf(shape: Shape): Shape {
  return (value, at, problems) => {
    if (!Array.isArray(value)) return void problems.push(`${at}: expected an array, got ${describe(value)}`);
    for (const [i, item] of value.entries()) shape(item, `${at}[${i}]`, problems);
  };
}

/** An object whose every own value fits `shape` (`Record<string, T>`). */
export function recordOf(shape: Shape): Shape {
  return (value, at, problems) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return void problems.push(`${at}: expected an object, got ${describe(value)}`);
    }
    for (const [key, item] of Object.entries(value)) shape(item, `${at}.${key}`, problems);
  };
}

export const anyObject: Shape = recordOf(() => {});

/** An object with `required` properties and, when present, `optional` ones (absent or the shape; not null). */
export function object(required: Record<string, Shape>, optional: Record<string, Shape> = {}): Shape {
  return (value, at, problems) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return void problems.push(`${at}: expected an object, got ${describe(value)}`);
    }
    const record = value as Record<string, unknown>;
    for (const [key, shape] of Object.entries(required)) {
      if (!(key in record)) problems.push(`${at}.${key}: missing`);
      else shape(record[key], `${at}.${key}`, problems);
    }
    for (const [key, shape] of Object.entries(optional)) {
      if (key in record && record[key] !== undefined) shape(record[key], `${at}.${key}`, problems);
    }
  };
}

// ── Meshes' types ───────────────────────────────────────────────────────────────────────────

export const integrationType = oneOf(
  "activecampaign",
  "aweber",
  "customer_io",
  "discord",
  "hubspot",
  "intercom",
  "mailchimp",
  "mailerlite",
  "pipedrive",
  "resend",
  "sendgrid",
  "salesforce",
  "slack",
  "webhook",
  "zoom",
);

export const eventStatus = oneOf("pending", "processing", "completed", "failed");

export function page(record: Shape): Shape {
  return object({ count: integer, limit: integer, next_cursor: nullable(string), records: arrayOf(record) });
}

export const workspace = object(
  { id: uuid, name: string, description: nullable(string), created_at: timestamp, updated_at: timestamp },
  { publishable_key: object({ public_key: string, name: string }) },
);

export const workspaceCatalogEntry = object(
  { id: string, key: string, label: string, created_at: timestamp, updated_at: timestamp },
  { description: nullable(string), active: boolean, created_by: nullable(string) },
);

export const connection = object(
  {
    id: uuid,
    workspace: uuid,
    type: integrationType,
    name: string,
    metadata: anyObject,
    created_by: string,
    created_at: timestamp,
    updated_at: timestamp,
  },
  {
    action_data: anyObject,
    active: boolean,
    inactive_reason: oneOf(
      "authentication_invalid",
      "oauth_authorization_revoked",
      "oauth_reauthorization_required",
      "manually_inactivated",
    ),
    hidden: boolean,
  },
);

export const ruleMetadata = (value: unknown, at: string, problems: string[]): void => {
  object({ action: string })(value, at, problems);
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) if (item !== undefined) string(item, `${at}.${key}`, problems);
  }
};

export const rule = object(
  {
    id: uuid,
    connection: uuid,
    workspace: uuid,
    type: integrationType,
    event: string,
    metadata: ruleMetadata,
    active: boolean,
    hidden: boolean,
    created_by: string,
    created_at: timestamp,
    updated_at: timestamp,
  },
  { resource: string, resource_id: string },
);

export const ruleEvent = object(
  {
    id: uuid,
    type: oneOf("rule"),
    workspace: uuid,
    event: string,
    event_id: uuid,
    connection: uuid,
    rule: uuid,
    integration_type: integrationType,
    status: eventStatus,
    attempt_count: integer,
    created_by: string,
    created_at: timestamp,
  },
  { resource: string, resource_id: string, started_at: timestamp, completed_at: timestamp, last_error: string },
);

export const meshesEvent = object(
  { id: uuid, workspace: uuid, event: string, status: eventStatus, created_by: string, created_at: timestamp },
  {
    type: oneOf("event"),
    resource: string,
    resource_id: string,
    total_rules: integer,
    completed_count: integer,
    failed_count: integer,
    started_at: timestamp,
    completed_at: timestamp,
    rule_events: arrayOf(ruleEvent),
    payload: anyObject,
  },
);

const option = object({ label: string, value: string });

const authenticationField = object(
  { label: string, key: string, type: oneOf("text", "password", "select") },
  {
    helpText: string,
    required: boolean,
    validate: oneOf("url"),
    defaultValue: string,
    options: arrayOf(option),
    dependsOn: object({ field: string, value: either(string, arrayOf(string)) }),
  },
);

const authentication: Shape = (value, at, problems) => {
  object({ type: oneOf("api_key", "basic", "none", "oauth") }, { fields: arrayOf(authenticationField) })(value, at, problems);
  if ((value as { type?: unknown } | null)?.type === "oauth") object({ oauth: object({ version: oneOf(1, 2) }) })(value, at, problems);
};

const actionInput: Shape = (value, at, problems) => {
  const kind = (value as { kind?: unknown } | null)?.kind;
  const common = { key: string, field: string };
  if (kind === "simple") {
    object({ ...common, kind: oneOf("simple") }, { label: string, noun: string, target: string, from: string, required: boolean })(
      value,
      at,
      problems,
    );
  } else if (kind === "field") {
    object(
      { ...common, kind: oneOf("field"), label: string, type: oneOf("text", "password", "textarea", "select") },
      {
        noun: string,
        description: string,
        placeholder: string,
        regex: string,
        regexMessage: string,
        required: boolean,
        options: arrayOf(option),
        defaultValue: string,
      },
    )(value, at, problems);
  } else if (kind === "advanced") {
    object({ ...common, kind: oneOf("advanced"), options: anyObject }, { label: string, noun: string, target: string, from: string })(
      value,
      at,
      problems,
    );
  } else problems.push(`${at}.kind: expected simple | field | advanced, got ${JSON.stringify(kind)}`);
};

export const integration = object({
  name: string,
  type: integrationType,
  authentication,
  actions: recordOf(
    object(
      { key: string, label: string, noun: string },
      { data: arrayOf(actionInput), fields: arrayOf(string), display: object({ label: string, description: string }) },
    ),
  ),
});

const fieldType = oneOf("string", "number", "boolean", "date", "datetime", "enum", "multi_enum", "json", "object", "array", "unknown");

export const connectionFieldCatalog = object({
  id: string,
  workspace_id: uuid,
  connection_id: uuid,
  integration_type: integrationType,
  catalog_version: string,
  refreshed_at: timestamp,
  created_by: string,
  created_at: timestamp,
  updated_at: timestamp,
  fields: arrayOf(
    object(
      { key: string, type: fieldType },
      {
        label: string,
        description: string,
        provider_meta: anyObject,
        constraints: object(
          {},
          {
            format: oneOf("email", "phone", "url", "uuid", "date", "datetime", "unknown"),
            required: boolean,
            read_only: boolean,
            max_length: number,
            min_length: number,
            pattern: string,
            min: number,
            max: number,
            allowed_values: arrayOf(string),
          },
        ),
      },
    ),
  ),
});

const mappingSource = either(
  object({ type: oneOf("literal"), value: either(string, number, boolean, oneOf(null)) }),
  object({ type: oneOf("path"), value: string }),
);

const mappingSchema = object(
  {
    schema_version: oneOf(1),
    fields: arrayOf(
      object(
        { dest: string, source: mappingSource },
        { transforms: arrayOf(object({ type: string })), on_error: oneOf("skip_field", "warn_action", "fail_action"), notes: string },
      ),
    ),
  },
  { meta: object({}, { name: string, notes: string }) },
);

export const connectionDefaultMappingResult = object({
  status: oneOf("stored", "generated"),
  mapping: object(
    {
      id: string,
      mapping_id: string,
      version: integer,
      workspace_id: uuid,
      connection_id: uuid,
      integration_type: integrationType,
      name: string,
      schema: mappingSchema,
      created_at: timestamp,
      updated_at: timestamp,
    },
    { catalog_version: string, created_by: string },
  ),
});

const sessionRole = oneOf("owner", "admin", "member");
const sessionType = oneOf("workspace", "resource", "dashboard");

const sessionFields = {
  session_id: string,
  access_token: string,
  expires_in: integer,
  expires_at: timestamp,
  workspace_id: uuid,
  role: sessionRole,
  session_type: sessionType,
};

export const session = object(sessionFields, { resource: string, resource_id: string });

export const createdSession = object(
  { ...sessionFields, launch_token: string, launch_expires_at: timestamp, launch_url: string },
  { resource: string, resource_id: string },
);

export const sessionRecord = object(
  {
    session_id: string,
    workspace_id: uuid,
    role: sessionRole,
    status: oneOf("active", "revoked"),
    created_at: timestamp,
    expires_at: timestamp,
    is_expired: boolean,
    session_type: sessionType,
  },
  { external_user_id: string, resource: string, resource_id: string },
);

/** The error envelope of CONTRACT.md § 3, which Meshes' client hands back as the error's `data`. */
export const errorEnvelope = object({
  message: string,
  error: object({ name: string, message: string }, { data: arrayOf(object({ param: string, msg: string })) }),
});

/** Fails the test with every place the answer departs from the shape. */
export function expectShape(value: unknown, shape: Shape): void {
  const problems = shapeProblems(shape, value);
  if (problems.length > 0)
    throw new Error(`the answer does not fit Meshes' shape:\n  ${problems.join("\n  ")}\n${JSON.stringify(value, null, 2)}`);
}
