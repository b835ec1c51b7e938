#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, parseConfig } from "./config.js";
import { silentLogger } from "./logger.js";
import { revokeAccessKey } from "./organizations/accessKeys.repository.js";
import { listOrganizations } from "./organizations/organizations.repository.js";
import { createAccessKey, createOrganization } from "./organizations/organizations.service.js";
import { openResources, type Resources } from "./runtime/openResources.js";
import { createWorkspace, listWorkspacePage, rotatePublishableKey } from "./workspaces/workspaces.service.js";

const usage = `Usage: switchyard <command> [options]

Uses DATABASE_URL, or the embedded PostgreSQL in SWITCHYARD_DATA_DIR (the running server's, or started
for the command). Secrets are printed once; they cannot be read back later.

  migrate                                             apply pending migrations
  org create --name <name>                            create an organization
  org list                                            list organizations
  access-key create --org <id> [--name <name>]        create an access key and its secret
  access-key revoke <access key>                      revoke an access key
  workspace create --org <id> --name <name>           create a workspace and its publishable key
  workspace list --org <id>                           list an organization's workspaces
  publishable-key rotate --org <id> --workspace <id>  replace a workspace's publishable key`;

type Command = (resources: Resources, values: Record<string, string | undefined>, rest: string[]) => Promise<unknown>;

const commands: Record<string, Command> = {
  migrate: async () => ({ migrated: true }),
  "org create": async ({ db }, v) => createOrganization(db, required(v, "name")),
  "org list": async ({ db }) => listOrganizations(db),
  "access-key create": async ({ db, secretBox }, v) => createAccessKey(db, secretBox, required(v, "org"), v.name ?? "default"),
  "access-key revoke": async ({ db }, _v, rest) => {
    const key = rest[0];
    if (key === undefined) throw new UsageError("access-key revoke needs the access key");
    return { revoked: await revokeAccessKey(db, key) };
  },
  "workspace create": async ({ db }, v) => createWorkspace(db, required(v, "org"), required(v, "name")),
  "workspace list": async ({ db }, v) => listWorkspacePage(db, required(v, "org"), { limit: 200 }),
  "publishable-key rotate": async ({ db }, v) => rotatePublishableKey(db, required(v, "org"), required(v, "workspace")),
};

class UsageError extends Error {}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: "string" }, org: { type: "string" }, workspace: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [first, second, ...rest] = positionals;
  const twoWord = `${first} ${second}`;
  const name = first !== undefined && commands[first] ? first : twoWord;
  const command = commands[name];
  if (values.help || command === undefined) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const resources = await openResources(parseConfig(), silentLogger, { reuseRunningEmbedded: true });
  try {
    const args = name === first ? [second, ...rest].filter((a): a is string => a !== undefined) : rest;
    const result = await command(resources, values as Record<string, string | undefined>, args);
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
    process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
