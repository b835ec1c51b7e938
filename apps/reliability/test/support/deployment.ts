import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Tenant, waitFor } from "@switchyard/testing";
import pg from "pg";
import { type OwnedPostgres, startOwnedPostgres } from "./ownedPostgres.js";
import { type ManagedProcess, startProcess, stopAllProcesses } from "./processes.js";

// The built processes, as operators run them (`turbo run build` makes them before the suite runs).
const serverDist = fileURLToPath(new URL("../../../server/dist/", import.meta.url));
const workerMain = fileURLToPath(new URL("../../../worker/dist/main.js", import.meta.url));

export type Env = Readonly<Record<string, string>>;

/**
 * The worker's recovery timers compressed for the scenarios: a lost attempt goes back to the queue 3 s after
 * its claim (timeout + margin), a delivery whose job died with a worker before claiming it gets a new job
 * after 3 s, and the sweeper looks every 200 ms.
 */
export const fastRecoveryWorkerEnv: Env = {
  SWITCHYARD_DELIVERY_STALE_MS: "3000",
  SWITCHYARD_DELIVERY_TIMEOUT_MS: "2000",
  SWITCHYARD_DELIVERY_LEASE_MARGIN_MS: "1000",
  SWITCHYARD_LEASE_SWEEP_MS: "200",
  SWITCHYARD_WORKER_POLL_MS: "100",
  SWITCHYARD_RETRY_SCHEDULE_SCALE: "0.001",
};

export interface ServerProcess extends ManagedProcess {
  readonly port: number;
  readonly baseUrl: string;
}

/**
 * One scenario's world: a temp folder, a PostgreSQL of its own in it, one encryption key, and the server
 * and worker processes it starts. `close` stops all of them and deletes the folder.
 */
export interface Deployment {
  readonly dir: string;
  readonly postgres: OwnedPostgres;
  /** A small pool on the scenario's database, for counting what was stored. */
  readonly pool: pg.Pool;
  /** `node apps/server/dist/main.js`; resolves once it listens. `port` 0 (the default) picks one. */
  readonly startServer: (options?: { readonly port?: number; readonly env?: Env }) => Promise<ServerProcess>;
  /** `node apps/worker/dist/main.js`; resolves once it says it runs. */
  readonly startWorker: (env?: Env) => Promise<ManagedProcess>;
  /** An organization with an access key and a workspace, made with the server's CLI as an operator would. */
  readonly createTenant: (name: string) => Promise<Tenant>;
  /** Highest peak RSS of every server and worker process started so far. */
  readonly peakRssBytes: () => number;
  readonly close: () => Promise<void>;
}

export async function startDeployment(name: string): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-reliability-${name}-`));
  const processes: ManagedProcess[] = [];
  let postgres: OwnedPostgres | undefined;
  let pool: pg.Pool | undefined;
  const close = async () => {
    await pool?.end().catch(() => {});
    for (const child of processes) await child.stop("SIGKILL");
    await stopAllProcesses();
    await postgres?.stop();
    if (!process.env.SWITCHYARD_RELIABILITY_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    postgres = await startOwnedPostgres(dir);
    pool = new pg.Pool({ connectionString: postgres.url, max: 3, connectionTimeoutMillis: 5000 });
    // The scenario restarts PostgreSQL under it; idle connections fail then, which must not end the test process.
    pool.on("error", () => {});
    const common: Env = {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: postgres.url,
      SWITCHYARD_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      SWITCHYARD_DATA_DIR: dir,
      SWITCHYARD_DESTINATION_ALLOWLIST: "127.0.0.1/32",
    };
    let started = 0;
    const cli = async (...args: string[]): Promise<unknown> => {
      const { stdout } = await promisify(execFile)(process.execPath, [join(serverDist, "cli.js"), ...args], {
        env: common,
        timeout: 30_000,
      });
      return JSON.parse(stdout);
    };
    const owned = postgres;
    const ownedPool = pool;
    return {
      dir,
      postgres: owned,
      pool: ownedPool,
      startServer: async (options = {}) => {
        started += 1;
        const env = { ...common, HOST: "127.0.0.1", PORT: String(options.port ?? 0), SWITCHYARD_BOOTSTRAP: "false", ...options.env };
        const server = startProcess(`server ${started}`, [join(serverDist, "main.js")], env, join(dir, `server-${started}.log`));
        processes.push(server);
        const line = await waitFor(() => listeningLine(server), {
          what: `server ${started} to listen`,
          until: (l) => l !== undefined || !server.running(),
          timeoutMs: 30_000,
          intervalMs: 25,
        });
        if (line === undefined) throw new Error(`server ${started} exited before listening:\n${server.output().slice(-3000)}`);
        const port = (JSON.parse(line) as { port: number }).port;
        return { ...server, port, baseUrl: `http://127.0.0.1:${port}` };
      },
      startWorker: async (env = {}) => {
        started += 1;
        const worker = startProcess(`worker ${started}`, [workerMain], { ...common, ...env }, join(dir, `worker-${started}.log`));
        processes.push(worker);
        await waitFor(() => worker.output().includes("delivery worker running") || !worker.running(), {
          what: `worker ${started} to run`,
          until: (done) => done,
          timeoutMs: 30_000,
          intervalMs: 25,
        });
        if (!worker.running()) throw new Error(`worker ${started} exited at start:\n${worker.output().slice(-3000)}`);
        return worker;
      },
      createTenant: async (tenantName) => {
        const organization = (await cli("org", "create", "--name", tenantName)) as { id: string };
        const key = (await cli("access-key", "create", "--org", organization.id)) as { accessKey: string; secretKey: string };
        const created = (await cli("workspace", "create", "--org", organization.id, "--name", tenantName)) as {
          workspace: { id: string };
          publishable_key: { key: string };
        };
        return {
          organizationId: organization.id,
          workspaceId: created.workspace.id,
          publishableKey: created.publishable_key.key,
          machine: { accessKey: key.accessKey, secretKey: key.secretKey, organizationId: organization.id },
        };
      },
      peakRssBytes: () => Math.max(0, ...processes.map((p) => p.peakRssBytes())),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function listeningLine(server: ManagedProcess): string | undefined {
  return readFileSync(server.logFile, "utf8")
    .split("\n")
    .find((line) => line.includes('"msg":"switchyard listening"'));
}
