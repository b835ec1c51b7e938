import { resolve } from "node:path";
import { defaultIngestLimits, type IngestLimits } from "@switchyard/event-intake";

/** The server's configuration, parsed once at start from the environment. */
export interface Config {
  /** Address to listen on. `HOST`, default 127.0.0.1 (use 0.0.0.0 behind a gateway or in a container). */
  readonly host: string;
  /** `PORT`, default 3000; 0 picks a free port. */
  readonly port: number;
  /** Origin printed in the first-run curl. `SWITCHYARD_PUBLIC_URL`, default http://localhost:<port>. */
  readonly publicUrl: string;
  /** `DATABASE_URL`; when unset, an embedded PostgreSQL is started with its data under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** `SWITCHYARD_DATA_DIR`, default `.switchyard` under the directory the command was run from. */
  readonly dataDir: string;
  /** Port of the embedded PostgreSQL. `SWITCHYARD_EMBEDDED_PG_PORT`, default 54329. */
  readonly embeddedPgPort: number;
  /**
   * 32-byte key (base64) that encrypts access-key secrets at rest. `SWITCHYARD_ENCRYPTION_KEY`; when unset,
   * a key file in `dataDir` is created and reused (every instance sharing a database must use the same key).
   */
  readonly encryptionKey: Buffer | undefined;
  /** Longest wait for the database (connect, pool checkout, statement) before answering 503. `SWITCHYARD_DB_TIMEOUT_MS`, default 5000. */
  readonly dbTimeoutMs: number;
  /** `SWITCHYARD_DB_POOL_SIZE`, default 10. */
  readonly dbPoolSize: number;
  /** Largest request body in bytes (413 above it). `SWITCHYARD_MAX_BODY_BYTES`, default 1048576. */
  readonly maxBodyBytes: number;
  /** `SWITCHYARD_MAX_PAYLOAD_BYTES`, `SWITCHYARD_MAX_PAYLOAD_DEPTH`, `SWITCHYARD_MAX_EVENT_NAME_LENGTH`, `SWITCHYARD_MAX_BATCH_ITEMS`. */
  readonly limits: IngestLimits;
  /** Accepted clock skew for a machine JWT's `iat` and `exp`. `SWITCHYARD_JWT_CLOCK_SKEW_SECONDS`, default 5. */
  readonly jwtClockSkewSeconds: number;
  /** Create a default organization, workspace and keys when the database has none. `SWITCHYARD_BOOTSTRAP`, default true. */
  readonly bootstrap: boolean;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseConfig(env: Env = process.env): Config {
  const port = integer(env, "PORT", 3000, 0, 65535);
  const databaseUrl = optional(env, "DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "must be a postgres:// or postgresql:// URL");
  }
  return Object.freeze({
    host: optional(env, "HOST") ?? "127.0.0.1",
    port,
    publicUrl: (optional(env, "SWITCHYARD_PUBLIC_URL") ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    databaseUrl,
    dataDir: resolve(env.INIT_CWD ?? process.cwd(), optional(env, "SWITCHYARD_DATA_DIR") ?? ".switchyard"),
    embeddedPgPort: integer(env, "SWITCHYARD_EMBEDDED_PG_PORT", 54329, 1, 65535),
    encryptionKey: encryptionKey(env),
    dbTimeoutMs: integer(env, "SWITCHYARD_DB_TIMEOUT_MS", 5000, 100, 600_000),
    dbPoolSize: integer(env, "SWITCHYARD_DB_POOL_SIZE", 10, 1, 1000),
    maxBodyBytes: integer(env, "SWITCHYARD_MAX_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    limits: Object.freeze({
      maxPayloadBytes: integer(env, "SWITCHYARD_MAX_PAYLOAD_BYTES", defaultIngestLimits.maxPayloadBytes, 1, 16 * 1024 * 1024),
      maxPayloadDepth: integer(env, "SWITCHYARD_MAX_PAYLOAD_DEPTH", defaultIngestLimits.maxPayloadDepth, 1, 1000),
      maxEventNameLength: integer(env, "SWITCHYARD_MAX_EVENT_NAME_LENGTH", defaultIngestLimits.maxEventNameLength, 1, 10_000),
      maxBatchItems: integer(env, "SWITCHYARD_MAX_BATCH_ITEMS", defaultIngestLimits.maxBatchItems, 1, 10_000),
    }),
    jwtClockSkewSeconds: integer(env, "SWITCHYARD_JWT_CLOCK_SKEW_SECONDS", 5, 0, 300),
    bootstrap: boolean(env, "SWITCHYARD_BOOTSTRAP", true),
  });
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function encryptionKey(env: Env): Buffer | undefined {
  const raw = optional(env, "SWITCHYARD_ENCRYPTION_KEY");
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, "base64");
  if (key.length !== 32) throw new ConfigError("SWITCHYARD_ENCRYPTION_KEY", "must be 32 bytes, base64-encoded");
  return key;
}
