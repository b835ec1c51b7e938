import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type BulkRequests, bulkRequests } from "./eventBodies.js";
import type { Target } from "./httpLoad.js";
import type { PostgresCluster } from "./postgresCluster.js";
import { type RunningServer, startServer, type Tenant } from "./switchyardServer.js";

/** A server started for one measurement over a database of its own, and the load to send it. */
export interface LoadTarget {
  readonly server: RunningServer;
  readonly databaseUrl: string;
  readonly target: Target;
  /**
   * The tenant's bulk requests, under a run prefix of `tag` and 6 random hex digits: a run of its own
   * (warm-up, measured load), so that no idempotency key repeats one of another run.
   */
  readonly requests: (tag: string) => BulkRequests;
}

/**
 * Starts the built server (or `entry`) over `database`, with its data and its log (`<database>.server.log`)
 * in `workDir`, once it listens runs `use` on it, and stops it afterwards whatever happens.
 */
export async function withLoadTarget<T>(
  cluster: PostgresCluster,
  database: string,
  tenant: Tenant,
  options: {
    readonly workDir: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly entry?: string;
    readonly nodeArgs?: readonly string[];
  },
  use: (run: LoadTarget) => Promise<T>,
): Promise<T> {
  const databaseUrl = cluster.url(database);
  const server = await startServer({
    databaseUrl,
    dataDir: options.workDir,
    logFile: join(options.workDir, `${database}.server.log`),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.entry === undefined ? {} : { entry: options.entry }),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
  });
  try {
    const target: Target = { host: "127.0.0.1", port: server.port };
    const requests = (tag: string) =>
      bulkRequests({ ...target, publishableKey: tenant.publishableKey, runPrefix: `${tag}${randomBytes(3).toString("hex")}` });
    return await use({ server, databaseUrl, target, requests });
  } finally {
    await server.stop();
  }
}
