import { resolve } from "node:path";
import {
  createWorkerPool,
  DeliveryConfigError,
  ownEndpointsWithDatabase,
  parseDeliveryWorkerConfig,
  startDeliveryWorker,
} from "@switchyard/delivery";
import { createSecretBox, loadOrCreateKeyFile } from "@switchyard/secret-box";

/**
 * The delivery worker on its own, for running deliveries on other machines than the API. It needs the
 * database the server migrated (`DATABASE_URL`) and the same encryption key (`SWITCHYARD_ENCRYPTION_KEY`,
 * or the key file in `SWITCHYARD_DATA_DIR`) to open the connections' secrets.
 */
const log = {
  info: (fields: object, msg: string) =>
    process.stdout.write(`${JSON.stringify({ level: "info", time: new Date().toISOString(), msg, ...fields })}\n`),
  warn: (fields: object, msg: string) =>
    process.stderr.write(`${JSON.stringify({ level: "warn", time: new Date().toISOString(), msg, ...fields })}\n`),
  error: (fields: object, msg: string) =>
    process.stderr.write(`${JSON.stringify({ level: "error", time: new Date().toISOString(), msg, ...fields }, errorFields)}\n`),
};

function errorFields(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

async function main(): Promise<void> {
  const config = parseDeliveryWorkerConfig();
  const databaseUrl = process.env.DATABASE_URL?.trim();
  if (!databaseUrl) throw new DeliveryConfigError("DATABASE_URL: required (the database the server migrated)");
  const key = process.env.SWITCHYARD_ENCRYPTION_KEY?.trim()
    ? Buffer.from(process.env.SWITCHYARD_ENCRYPTION_KEY.trim(), "base64")
    : (await loadOrCreateKeyFile(resolve(process.env.INIT_CWD ?? process.cwd(), process.env.SWITCHYARD_DATA_DIR ?? ".switchyard"))).key;

  const pool = createWorkerPool(databaseUrl, config.concurrency, (error) => log.warn({ err: error }, "database connection failed"));
  // Never a destination: the database, and the server's port when this environment names it (`PORT`).
  const own = await ownEndpointsWithDatabase(databaseUrl);
  const serverPort = Number(process.env.PORT);
  if (Number.isInteger(serverPort) && serverPort > 0) await own.add(process.env.HOST ?? "127.0.0.1", serverPort);
  const worker = await startDeliveryWorker({ pool, secretBox: createSecretBox(key), config, log, neverReachable: own.neverReachable });
  log.info({ concurrency: config.concurrency, deliveryTimeoutMs: config.deliveryTimeoutMs }, "delivery worker running");

  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "delivery worker stopping");
      worker
        .stop()
        .then(() => pool.end())
        .then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, "delivery worker failed to stop cleanly");
            process.exit(1);
          },
        );
    });
  }
}

main().catch((error: unknown) => {
  log.error({ err: error }, "delivery worker failed to start");
  process.exit(1);
});
