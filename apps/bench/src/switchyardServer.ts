import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { peakRssBytes } from "./procStat.js";

/** The built server's folder (`apps/server/dist`), found by package name like any dependency. */
export const serverDist = dirname(fileURLToPath(import.meta.resolve("@switchyard/server")));

/** One key for every process of a bench run, so that no key file is written anywhere. */
const encryptionKey = randomBytes(32).toString("base64");

/**
 * The environment the server and its CLI run with: only what the bench means to set, so that a
 * `SWITCHYARD_*` variable of the calling shell (a rate limit, say) cannot change what is measured.
 */
function serverEnv(databaseUrl: string, dataDir: string, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return {
    ...extra,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl,
    SWITCHYARD_DATA_DIR: dataDir,
    SWITCHYARD_ENCRYPTION_KEY: encryptionKey,
    SWITCHYARD_BOOTSTRAP: "false",
  };
}

/** Runs the built server's CLI (`switchyard <args>`) and parses the JSON it prints. */
async function runCli(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [`${serverDist}/cli.js`, ...args], { env });
  return JSON.parse(stdout) as Record<string, unknown>;
}

export interface Tenant {
  readonly organizationId: string;
  readonly workspaceId: string;
  readonly publishableKey: string;
  /** What the server stores as `created_by` for this key: the key without its secret. */
  readonly createdBy: string;
}

/**
 * Migrates the database and creates an organization and a workspace through the server's own CLI
 * (`switchyard org create`, `workspace create`), the way an operator would, and returns the key it printed.
 */
export async function createTenant(databaseUrl: string, dataDir: string): Promise<Tenant> {
  const cli = (...args: string[]) => runCli(serverEnv(databaseUrl, dataDir), args);
  const organization = (await cli("org", "create", "--name", "Bench")) as { id: string };
  const created = (await cli("workspace", "create", "--org", organization.id, "--name", "Bench")) as {
    workspace: { id: string };
    publishable_key: { key: string };
  };
  const key = created.publishable_key.key;
  return {
    organizationId: organization.id,
    workspaceId: created.workspace.id,
    publishableKey: key,
    createdBy: key.slice(0, key.lastIndexOf("_")),
  };
}

/**
 * Routes every event of the tenant's workspace to `url`: one webhook connection and one rule for the bench's
 * event name, created with the server's CLI (`connection create`, `rule create`) as an operator would.
 * `env` must allow the receiver's address (SWITCHYARD_DESTINATION_ALLOWLIST).
 */
export async function addRoute(
  databaseUrl: string,
  dataDir: string,
  tenant: Tenant,
  url: string,
  event: string,
  env: Readonly<Record<string, string>>,
): Promise<{ connectionId: string; ruleId: string }> {
  const cli = (...args: string[]) => runCli(serverEnv(databaseUrl, dataDir, env), args);
  const created = await cli("connection", "create", "--org", tenant.organizationId, "--workspace", tenant.workspaceId, "--url", url);
  const connection = (created.connection ?? created) as { id: string };
  const rule = (await cli("rule", "create", "--org", tenant.organizationId, "--connection", connection.id, "--event", event)) as {
    id: string;
  };
  return { connectionId: connection.id, ruleId: rule.id };
}

/**
 * The mapped destination of phase (m): a Slack connection (its API at the bench's receiver, through
 * `SWITCHYARD_SLACK_API_URL` in `env`) whose default mapping has the 5 fields below, and a `send_message` rule
 * for `event` with a template: each delivery applies the mapping and renders the template before it is sent.
 */
export async function addMappedRoute(
  databaseUrl: string,
  dataDir: string,
  tenant: Tenant,
  event: string,
  env: Readonly<Record<string, string>>,
): Promise<{ connectionId: string; ruleId: string }> {
  const cli = (...args: string[]) => runCli(serverEnv(databaseUrl, dataDir, env), args);
  const created = await cli(
    "connection",
    "create",
    "--org",
    tenant.organizationId,
    "--workspace",
    tenant.workspaceId,
    "--type",
    "slack",
    "--name",
    "bench slack",
    "--metadata",
    JSON.stringify({ team_id: "T0BENCH", team_name: "Bench" }),
    "--secrets",
    JSON.stringify({ access_token: "xoxb-bench-token" }),
  );
  const connection = (created.connection ?? created) as { id: string };
  await cli("mapping", "set", "--org", tenant.organizationId, "--connection", connection.id, "--schema", JSON.stringify(benchMapping));
  const rule = (await cli(
    "rule",
    "create",
    "--org",
    tenant.organizationId,
    "--connection",
    connection.id,
    "--event",
    event,
    "--action",
    "send_message",
    "--metadata",
    JSON.stringify({
      id: "C0BENCH",
      template: "New {{plan}} signup: {{name}} <{{email}}> at {{company.name}} ({{company.employees}} people), from {{source}}",
    }),
  )) as { id: string };
  return { connectionId: connection.id, ruleId: rule.id };
}

/** Five fields over the bench's payload, with transforms: what (m) applies to every delivery. */
const benchMapping = {
  schema_version: 1,
  fields: [
    { dest: "email", source: { type: "path", value: "email" }, transforms: [{ type: "trim" }, { type: "lower" }], on_error: "fail_action" },
    { dest: "full_name", source: { type: "path", value: "name" }, transforms: [{ type: "trim" }] },
    { dest: "plan", source: { type: "path", value: "plan" }, transforms: [{ type: "upper" }] },
    { dest: "company", source: { type: "path", value: "company.name" }, transforms: [{ type: "substring", start: 0, length: 40 }] },
    { dest: "employees", source: { type: "path", value: "company.employees" }, transforms: [{ type: "to_string" }] },
  ],
};

export interface RunningServer {
  readonly pid: number;
  readonly port: number;
  /** VmHWM of the server process so far. */
  readonly peakRssBytes: () => number;
  /** SIGTERM, then waits for the exit (a CPU profile is written on exit). */
  readonly stop: () => Promise<void>;
}

/**
 * Starts `node apps/server/dist/main.js` as a child process on a free port, its log (one line per request,
 * as in production) going to `logFile`, and resolves once it logged that it listens.
 */
export async function startServer(options: {
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly nodeArgs?: readonly string[];
  /** The script to run instead of the server's `main.js` (the floor, `floorServer.js`). */
  readonly entry?: string;
  /** Extra environment (SWITCHYARD_DESTINATION_ALLOWLIST for runs that deliver). */
  readonly env?: Readonly<Record<string, string>>;
}): Promise<RunningServer> {
  const log = openSync(options.logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? `${serverDist}/main.js`], {
      env: { ...serverEnv(options.databaseUrl, options.dataDir, options.env), HOST: "127.0.0.1", PORT: "0" },
      stdio: ["ignore", log, log],
    });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error("the server did not start");
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = readFileSync(options.logFile, "utf8");
    const line = text.split("\n").find((l) => l.includes('"msg":"switchyard listening"'));
    if (line !== undefined) {
      const port = (JSON.parse(line) as { port: number }).port;
      return { pid, port, peakRssBytes: () => peakRssBytes(pid), stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not start listening:\n${text.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
