#!/usr/bin/env node
import { parseArgs } from "node:util";
import { type ConnectionInput, type MappingSchema, mintMachineToken, type OAuthConnectionInput } from "@switchyard/client";
import { parseAddressPolicy } from "@switchyard/destinations";
import { type Config, ConfigError, parseConfig } from "./config.js";
import { createConnection } from "./connections/connections.service.js";
import { storeDefaultMapping } from "./connections/defaultMappings.service.js";
import { getEventDetail, listAttempts } from "./history/history.service.js";
import { ApiError } from "./http/errors.js";
import { silentLogger } from "./logger.js";
import { reauthorizeConnection, startOAuthConnection } from "./oauth/oauthConnections.service.js";
import { revokeAccessKey } from "./organizations/accessKeys.repository.js";
import { listOrganizations } from "./organizations/organizations.repository.js";
import { createAccessKey, createOrganization, rekeyOrganization } from "./organizations/organizations.service.js";
import { createRule } from "./rules/rules.service.js";
import { openResources, type Resources } from "./runtime/openResources.js";
import { createWorkspace, listWorkspacePage, rotatePublishableKey } from "./workspaces/workspaces.service.js";

const usage = `Usage: switchyard <command> [options]

Uses DATABASE_URL, or the embedded PostgreSQL in SWITCHYARD_DATA_DIR (the running server's, or started
for the command). Secrets are printed once; they cannot be read back later.

  migrate                                             apply pending migrations
  org create --name <name>                            create an organization
  org list                                            list organizations
  org rekey --org <id>                                give an organization made before UUIDv4 ids a new UUIDv4 id
                                                      (Meshes' clients refuse others); machine JWTs then need the new id
  access-key create --org <id> [--name <name>]        create an access key and its secret
  access-key revoke <access key>                      revoke an access key
  workspace create --org <id> --name <name> [--description <text>]
                                                      create a workspace and its publishable key
  workspace list --org <id>                           list an organization's workspaces
  publishable-key rotate --org <id> --workspace <id>  replace a workspace's publishable key
  connection create --org <id> --workspace <id> --url <url> [--name <name>]
                                                      create a webhook connection (prints its signing secret once)
  connection create --org <id> --workspace <id> --type <type> --metadata <json> [--secrets <json>] [--name <name>]
                                                      create a connection of another integration (an API key in --secrets)
  mapping set --org <id> --connection <id> --schema <json>
                                                      store the connection's default field mapping (a MappingSchema)
  connection oauth --workspace <id> --type <type> --name <name> [--org <id>]
  connection oauth --connection <id> [--org <id>]
                                                      start an OAuth connection (hubspot, salesforce, slack, discord),
                                                      or re-authorize one: prints the URL to open in a browser; the
                                                      server (at SWITCHYARD_PUBLIC_URL) completes it when the provider
                                                      sends the user back, within 10 minutes
  rule create --org <id> --connection <id> --event <name> [--action <action>] [--metadata <json>]
                                                      send events of that name to the connection (the action's inputs,
                                                      such as a channel and a template, in --metadata)
  event show --org <id> --event-id <id>               an event with its deliveries and every attempt
  token --org <id> --access-key <key> --secret <secret>
                                                      a machine JWT (30 s) for curl: Authorization: Bearer …

Uses SWITCHYARD_DESTINATION_ALLOWLIST like the server (local receivers need e.g. 127.0.0.1/32).`;

type Command = (resources: Resources, values: Record<string, string | undefined>, rest: string[], config: Config) => Promise<unknown>;

const commands: Record<string, Command> = {
  migrate: async () => ({ migrated: true }),
  "org create": async ({ db }, v) => createOrganization(db, required(v, "name")),
  "org list": async ({ db }) => listOrganizations(db),
  "org rekey": async ({ db }, v) => rekeyOrganization(db, required(v, "org")),
  "access-key create": async ({ db, secretBox }, v) => createAccessKey(db, secretBox, required(v, "org"), v.name ?? "default"),
  "access-key revoke": async ({ db }, _v, rest) => {
    const key = rest[0];
    if (key === undefined) throw new UsageError("access-key revoke needs the access key");
    return { revoked: await revokeAccessKey(db, key) };
  },
  "workspace create": async ({ db }, v) => createWorkspace(db, required(v, "org"), required(v, "name"), v.description ?? null),
  "workspace list": async ({ db }, v) => listWorkspacePage(db, required(v, "org"), { limit: 200 }),
  "publishable-key rotate": async ({ db }, v) => rotatePublishableKey(db, required(v, "org"), required(v, "workspace")),
  "connection create": async ({ db, secretBox }, v, _rest, config) =>
    createConnection(
      {
        db,
        secretBox,
        addressPolicy: parseAddressPolicy(config.destinationAllowList),
        signingSecretGraceMs: config.signingSecretGraceMs,
        providers: config.providers,
      },
      required(v, "org"),
      connectionInput(v),
      "cli",
    ),
  "connection oauth": async (resources, v, _rest, config) => connectionOAuth(resources, v, config),
  "mapping set": async ({ db }, v) => {
    const schema = jsonObject(v, "schema");
    if (schema.schema_version !== 1 || !Array.isArray(schema.fields))
      throw new UsageError("--schema must be a MappingSchema: {schema_version: 1, fields: [...]}");
    return storeDefaultMapping(db, required(v, "org"), required(v, "connection"), { schema: schema as unknown as MappingSchema });
  },
  "rule create": async ({ db }, v) => {
    const metadata = v.metadata === undefined ? {} : jsonObject(v, "metadata");
    const action = v.action ?? (typeof metadata.action === "string" ? metadata.action : "send_webhook");
    return createRule(
      db,
      required(v, "org"),
      { connection: required(v, "connection"), event: required(v, "event"), metadata: { ...metadata, action } },
      "cli",
    );
  },
  "event show": async ({ db }, v) => {
    const organizationId = required(v, "org");
    const event = await getEventDetail(db, organizationId, required(v, "event-id"));
    const attempts = await Promise.all(event.rule_events.map((r) => listAttempts(db, organizationId, event.id, r.rule)));
    return { ...event, rule_events: event.rule_events.map((r, i) => ({ ...r, attempts: attempts[i]?.records ?? [] })) };
  },
};

/**
 * Starts (or, with --connection, re-authorizes) an OAuth connection as the API does, acting as `cli`; the redirect
 * URI is `SWITCHYARD_PUBLIC_URL`'s (default http://localhost:<PORT>), where the running server takes the callback.
 */
async function connectionOAuth({ db, secretBox }: Resources, v: Record<string, string | undefined>, config: Config): Promise<unknown> {
  const deps = {
    db,
    secretBox,
    addressPolicy: parseAddressPolicy(config.destinationAllowList),
    signingSecretGraceMs: config.signingSecretGraceMs,
    providers: config.providers,
    exchangeTimeoutMs: config.dbTimeoutMs,
  };
  if (v.connection !== undefined) {
    const org = v.org ?? (await organizationOfConnection(db, v.connection));
    return reauthorizeConnection(deps, org, v.connection, "cli", config.publicUrl);
  }
  const workspace = required(v, "workspace");
  const org = v.org ?? (await organizationOfWorkspace(db, workspace));
  const type = required(v, "type") as OAuthConnectionInput["type"];
  return startOAuthConnection(deps, org, { workspace, type, name: required(v, "name") }, "cli", config.publicUrl);
}

async function organizationOfWorkspace(db: Resources["db"], workspaceId: string): Promise<string> {
  const row = await db.selectFrom("workspaces").select("organization_id").where("id", "=", workspaceId).executeTakeFirst();
  if (row === undefined) throw new UsageError(`no workspace ${workspaceId}`);
  return row.organization_id;
}

async function organizationOfConnection(db: Resources["db"], connectionId: string): Promise<string> {
  const row = await db
    .selectFrom("connections")
    .innerJoin("workspaces", "workspaces.id", "connections.workspace_id")
    .select("workspaces.organization_id")
    .where("connections.id", "=", connectionId)
    .executeTakeFirst();
  if (row === undefined) throw new UsageError(`no connection ${connectionId}`);
  return row.organization_id;
}

/** Commands that need no database. */
const offline: Record<string, (values: Record<string, string | undefined>) => Promise<unknown>> = {
  token: async (v) => ({
    token: await mintMachineToken({
      accessKey: required(v, "access-key"),
      secretKey: required(v, "secret"),
      organizationId: required(v, "org"),
    }),
  }),
};

class UsageError extends Error {}

/** An API error's details, one `param: msg` line each, as the API's envelope carries them in `data`. */
function problemLines(error: unknown): string {
  if (!(error instanceof ApiError) || error.data === undefined) return "";
  return error.data.map(({ param, msg }) => `  ${param}: ${msg}\n`).join("");
}

/** A webhook from `--url`, or any integration from `--type` and `--metadata` (and `--secrets`). */
function connectionInput(v: Record<string, string | undefined>): ConnectionInput {
  const type = v.type ?? "webhook";
  if (type === "webhook" && v.metadata === undefined) {
    return { workspace: required(v, "workspace"), type, name: v.name ?? required(v, "url"), metadata: { url: required(v, "url") } };
  }
  return {
    workspace: required(v, "workspace"),
    type: type as ConnectionInput["type"],
    name: v.name ?? type,
    metadata: jsonObject(v, "metadata"),
    ...(v.secrets === undefined ? {} : { secrets: jsonObject(v, "secrets") }),
  };
}

function jsonObject(values: Record<string, string | undefined>, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(required(values, name));
  } catch {
    throw new UsageError(`--${name} must be JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`--${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      description: { type: "string" },
      org: { type: "string" },
      workspace: { type: "string" },
      url: { type: "string" },
      connection: { type: "string" },
      event: { type: "string" },
      action: { type: "string" },
      type: { type: "string" },
      metadata: { type: "string" },
      secrets: { type: "string" },
      schema: { type: "string" },
      "event-id": { type: "string" },
      "access-key": { type: "string" },
      secret: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [first, second, ...rest] = positionals;
  const twoWord = `${first} ${second}`;
  const name = first !== undefined && commands[first] ? first : twoWord;
  const command = commands[name];
  const local = first === undefined ? undefined : offline[first];
  if (local !== undefined && !values.help) {
    process.stdout.write(`${JSON.stringify(await local(values as Record<string, string | undefined>), null, 2)}\n`);
    return 0;
  }
  if (values.help || command === undefined) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const config = parseConfig();
  const resources = await openResources(config, silentLogger, { reuseRunningEmbedded: true });
  try {
    const args = name === first ? [second, ...rest].filter((a): a is string => a !== undefined) : rest;
    const result = await command(resources, values as Record<string, string | undefined>, args, config);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await resources.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`switchyard: ${error.message}\n\n${usage}\n`);
      process.exit(2);
    }
    process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n${problemLines(error)}`);
    process.exit(1);
  },
);
