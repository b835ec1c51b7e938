import { DeliveryConfigError, ownEndpointsWithDatabase } from "@switchyard/delivery";
import { createApp } from "./app.js";
import { type Config, ConfigError, parseConfig } from "./config.js";
import { loadSpec } from "./http/openApiSpec.js";
import { startIdempotencyKeyPurger } from "./ingest/idempotencyKeyPurger.js";
import { createServerRoutingWake } from "./ingest/routingWake.js";
import { createWorkspaceRateLimiter } from "./ingest/workspaceRateLimiter.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./operations/metrics.js";
import { closeServer } from "./runtime/closeServer.js";
import { bootstrapFirstRun, firstRunMessage } from "./runtime/firstRun.js";
import { type Listening, listen } from "./runtime/listen.js";
import { onShutdownSignal } from "./runtime/onShutdownSignal.js";
import { openResources } from "./runtime/openResources.js";
import { startWorkerInProcess } from "./runtime/startWorkerInProcess.js";

const log = createLogger();

/** The server process: each step below opens what the later ones use; shutdown closes them in reverse order. */
async function main(): Promise<void> {
  const config = parseConfig();
  const spec = await loadSpec();
  const resources = await openResources(config, log, { reuseRunningEmbedded: false });
  const firstRun = config.bootstrap ? await bootstrapFirstRun(resources.db, resources.secretBox) : undefined;
  const rateLimiter = createWorkspaceRateLimiter(config.rateLimit, { pool: resources.pool, log });
  const metrics = createMetrics({ pool: resources.pool });
  // Never a destination, allowed or not: this server (its port, once it listens) and its database.
  const own = await ownEndpointsWithDatabase(resources.databaseUrl);
  const worker = config.runWorker
    ? await startWorkerInProcess(resources.databaseUrl, resources.secretBox, own.neverReachable, log)
    : undefined;
  const routingWake = createServerRoutingWake(resources.pool, log);
  const { db, pool, secretBox } = resources;
  const app = createApp({ db, pool, secretBox, routingWake, spec, config, log, rateLimiter, metrics, neverReachable: own.neverReachable });
  const listening = await listen(app, config);
  await own.add(config.host, listening.port);
  const stopPurger = startIdempotencyKeyPurger(resources.db, log, 10 * 60 * 1000);
  logListening(config, listening);
  // Shown once, on the terminal only (never through the logger): the first run's secrets and a working curl.
  if (firstRun) process.stdout.write(`${firstRunMessage(firstRun, config.publicUrl)}\n`);

  onShutdownSignal(log, async (signal) => {
    log.info({ signal }, "shutting down");
    stopPurger();
    // Stop accepting, let in-flight requests finish (for up to the grace period), then close resources in
    // reverse order of opening.
    listening.acceptors.close();
    await closeServer(listening.server, config.shutdownGraceMs, () =>
      log.warn({ shutdownGraceMs: config.shutdownGraceMs }, "closing connections still busy after the shutdown grace period"),
    );
    await routingWake.close();
    // Running attempts finish and are recorded before the database goes away.
    await worker?.stop();
    await resources.close();
    log.info({}, "stopped");
  });
}

function logListening(config: Config, listening: Listening): void {
  log.info(
    {
      host: config.host,
      port: listening.port,
      acceptHandles: 1 + listening.acceptors.count,
      embeddedDatabase: config.databaseUrl === undefined,
      encryptionKeyConfigured: config.encryptionKey !== undefined,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      rateLimit: config.rateLimit,
    },
    "switchyard listening",
  );
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
