import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, createClient, createConfig } from "@switchyard/client";
import { type Db, openDatabase } from "@switchyard/db";
import {
  createWorkerPool,
  type DeliveryWorkerConfig,
  ownEndpointsWithDatabase,
  parseDeliveryWorkerConfig,
  startDeliveryWorker,
} from "@switchyard/delivery";
import { defaultIngestLimits } from "@switchyard/event-intake";
import { createSecretBox, type SecretBox } from "@switchyard/secret-box";
import type pg from "pg";
import { createApp } from "../../src/app.js";
import type { Config } from "../../src/config.js";
import { createHttpServer } from "../../src/http/hardenServer.js";
import { loadSpec } from "../../src/http/openApiSpec.js";
import { createServerRoutingWake } from "../../src/ingest/routingWake.js";
import { createWorkspaceRateLimiter } from "../../src/ingest/workspaceRateLimiter.js";
import { type Logger, silentLogger } from "../../src/logger.js";
import { createMetrics, type Metrics } from "../../src/operations/metrics.js";

export interface TestServer {
  readonly baseUrl: string;
  readonly db: Db;
  /** The pg pool under `db`. */
  readonly pool: pg.Pool;
  readonly secretBox: SecretBox;
  /** A generated-SDK client bound to this server (no credentials). */
  readonly client: Client;
  /** The app's metrics (its own registry, with this server's pool). */
  readonly metrics: Metrics;
  readonly close: () => Promise<void>;
}

export type TestServerConfig = Pick<
  Config,
  | "maxBodyBytes"
  | "limits"
  | "jwtClockSkewSeconds"
  | "dbTimeoutMs"
  | "corsOrigins"
  | "rateLimit"
  | "idempotencyTtlSeconds"
  | "dbPoolSize"
  | "ingestGroupMaxRows"
  | "ingestMaxInProgress"
  | "ingestMaxQueueWaitMs"
  | "keepAliveTimeoutMs"
  | "requestTimeoutMs"
  | "trustProxy"
  | "destinationAllowList"
  | "signingSecretGraceMs"
  | "configuredPublicUrl"
  | "providers"
> & {
  /** Where the app logs. Default: nowhere. */
  readonly log: Logger;
  /** Run a delivery worker beside the app, with these settings over the defaults. Default: no worker. */
  readonly worker?: Partial<DeliveryWorkerConfig>;
  /** The key sealing secrets (to share it with a worker process). Default: a random one. */
  readonly encryptionKey?: Buffer;
};

export const testConfig: TestServerConfig = {
  maxBodyBytes: 1024 * 1024,
  limits: defaultIngestLimits,
  jwtClockSkewSeconds: 5,
  dbTimeoutMs: 5000,
  idempotencyTtlSeconds: 24 * 3600,
  dbPoolSize: 5,
  ingestGroupMaxRows: 400,
  ingestMaxInProgress: 64,
  ingestMaxQueueWaitMs: 1000,
  keepAliveTimeoutMs: 65_000,
  requestTimeoutMs: 10_000,
  corsOrigins: "*",
  trustProxy: false,
  rateLimit: { eventsPerSecond: 0, burst: 100, store: "memory" },
  // Local receivers in tests listen on loopback, which the address policy refuses by default.
  destinationAllowList: "127.0.0.1/32,::1/128",
  signingSecretGraceMs: 24 * 3_600_000,
  // Tests with a provider's local fake set its API origin here (and in `worker.providers`).
  providers: new Map(),
  configuredPublicUrl: undefined,
  log: silentLogger,
};

/** A delivery worker fit for tests: fast polling and sweeping, the retry schedule compressed 1000 times. */
export const testWorkerConfig: DeliveryWorkerConfig = {
  ...parseDeliveryWorkerConfig({}),
  concurrency: 8,
  deliveryTimeoutMs: 2_000,
  leaseMarginMs: 1_000,
  retryScheduleScale: 0.001,
  destinationAllowList: "127.0.0.1/32,::1/128",
  leaseSweepMs: 200,
  // Below the default (64), so that the cap is reached with few events.
  maxInFlightPerConnection: 16,
  pollIntervalMs: 100,
};

/** The real app on a real socket (port 0), validating responses against the spec as well as requests. */
export async function startTestServer(databaseUrl: string, overrides: Partial<TestServerConfig> = {}): Promise<TestServer> {
  const config = { ...testConfig, ...overrides };
  const database = openDatabase({
    connectionString: databaseUrl,
    timeoutMs: config.dbTimeoutMs,
    poolSize: config.dbPoolSize,
    onIdleError: () => {},
  });
  const secretBox = createSecretBox(config.encryptionKey ?? randomBytes(32));
  const rateLimiter = createWorkspaceRateLimiter(config.rateLimit, { pool: database.pool, log: config.log });
  const metrics = createMetrics({ pool: database.pool });
  const routingWake = createServerRoutingWake(database.pool, config.log);
  // As main.ts does: the database and this server (once it listens) are never destinations.
  const own = await ownEndpointsWithDatabase(databaseUrl);
  const app = createApp({
    db: database.db,
    pool: database.pool,
    routingWake,
    spec: await loadSpec(),
    secretBox,
    config,
    log: config.log,
    rateLimiter,
    metrics,
    neverReachable: own.neverReachable,
    validateResponses: true,
  });
  const server: Server = createHttpServer(app, {
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await own.add("127.0.0.1", (server.address() as AddressInfo).port);
  const workerConfig = { ...testWorkerConfig, ...config.worker };
  const workerPool = config.worker === undefined ? undefined : createWorkerPool(databaseUrl, workerConfig.concurrency, () => {});
  const worker =
    workerPool === undefined
      ? undefined
      : await startDeliveryWorker({
          pool: workerPool,
          secretBox,
          config: workerConfig,
          log: config.log,
          neverReachable: own.neverReachable,
        });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    db: database.db,
    pool: database.pool,
    secretBox,
    client: createClient(createConfig({ baseUrl })),
    metrics,
    close: async () => {
      await worker?.stop();
      await workerPool?.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await routingWake.close();
      await database.close();
    },
  };
}
