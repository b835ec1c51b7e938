import { isIP, isIPv4 } from "node:net";
import { resolve } from "node:path";
import {
  destinations,
  type ProviderSettingsByType,
  ProviderSettingsError,
  parseAddressPolicy,
  parseProviderSettings,
} from "@switchyard/destinations";
import { defaultIngestLimits, type IngestLimits } from "@switchyard/event-intake";

/** The server's configuration, parsed once at start from the environment. */
export interface Config {
  /** Address to listen on. `HOST`, default 127.0.0.1 (use 0.0.0.0 behind a gateway or in a container). */
  readonly host: string;
  /** `PORT`, default 3000; 0 picks a free port. */
  readonly port: number;
  /** Origin printed in the first-run curl. `SWITCHYARD_PUBLIC_URL`, default http://localhost:<port>. */
  readonly publicUrl: string;
  /**
   * `SWITCHYARD_PUBLIC_URL` as set, or undefined when unset: where browsers reach the embedded dashboard. Session
   * launch URLs start with it and sessions may always be used from its origin; when unset, the origin each
   * request was sent to stands in.
   */
  readonly configuredPublicUrl: string | undefined;
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
  /** Longest time a client may take to send a whole request. `SWITCHYARD_REQUEST_TIMEOUT_MS`, default 30000. */
  readonly requestTimeoutMs: number;
  /**
   * How long an idle kept-alive client connection stays open; longer than the idle timeout of the gateway or
   * client pools in front (so that they close first). `SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS`, default 65000.
   */
  readonly keepAliveTimeoutMs: number;
  /**
   * Accept handles on the listening socket (`addAcceptors`): a busy event loop accepts up to this many new
   * connections per turn instead of one. `SWITCHYARD_ACCEPT_HANDLES`, default 16; 1 = the socket's own only.
   */
  readonly acceptHandles: number;
  /**
   * Most events one ingest statement carries when concurrent requests are written together (group commit;
   * at most half the pool's connections write events at once). `SWITCHYARD_INGEST_GROUP_MAX_ROWS`, default 400.
   */
  readonly ingestGroupMaxRows: number;
  /**
   * Load shedding (docs/operations.md): most ingestion requests in progress at once; beyond it a new one is
   * answered 503 with `Retry-After` before its body is read. `SWITCHYARD_INGEST_MAX_IN_PROGRESS`, default 64; 0 = no limit.
   */
  readonly ingestMaxInProgress: number;
  /**
   * Load shedding: a new ingestion request is answered 503 at once while the oldest batch waiting to be written
   * has waited longer than this. `SWITCHYARD_INGEST_MAX_QUEUE_WAIT_MS`, default 1000; 0 = never.
   */
  readonly ingestMaxQueueWaitMs: number;
  /**
   * Longest wait, after a shutdown signal, for in-flight requests to finish before their connections are
   * closed. `SWITCHYARD_SHUTDOWN_GRACE_MS`, default 10000.
   */
  readonly shutdownGraceMs: number;
  /**
   * Which proxies to believe about the client's address and protocol (`X-Forwarded-*`), with Express's
   * `trust proxy` semantics. `SWITCHYARD_TRUST_PROXY`: `false` (the default; trust none), `true` (trust
   * all: only when every request comes through a proxy), a hop count such as `1`, or a comma-separated
   * list of addresses and subnets such as `10.0.0.0/8,loopback`.
   */
  readonly trustProxy: boolean | number | readonly string[];
  /** Largest request body in bytes (413 above it). `SWITCHYARD_MAX_BODY_BYTES`, default 1048576. */
  readonly maxBodyBytes: number;
  /** `SWITCHYARD_MAX_PAYLOAD_BYTES`, `SWITCHYARD_MAX_PAYLOAD_DEPTH`, `SWITCHYARD_MAX_EVENT_NAME_LENGTH`, `SWITCHYARD_MAX_BATCH_ITEMS`. */
  readonly limits: IngestLimits;
  /** Accepted clock skew for a machine JWT's `iat` and `exp`. `SWITCHYARD_JWT_CLOCK_SKEW_SECONDS`, default 5. */
  readonly jwtClockSkewSeconds: number;
  /** Create a default organization, workspace and keys when the database has none. `SWITCHYARD_BOOTSTRAP`, default true. */
  readonly bootstrap: boolean;
  /** How long an idempotency key is remembered per workspace, in seconds. `SWITCHYARD_IDEMPOTENCY_TTL_HOURS`, default 24. */
  readonly idempotencyTtlSeconds: number;
  /**
   * Non-public destination addresses that connections may name anyway: CIDRs and exact host names,
   * comma-separated (e.g. `127.0.0.1/32,::1/128` for local development). `SWITCHYARD_DESTINATION_ALLOWLIST`, default none.
   */
  readonly destinationAllowList: string;
  /** How long a rotated-out webhook signing secret keeps signing. `SWITCHYARD_SIGNING_SECRET_GRACE_HOURS`, default 24. */
  readonly signingSecretGraceMs: number;
  /**
   * Per provider: its API origin, OAuth app (client id and secret, authorize and token URLs) and bot token, from
   * `SWITCHYARD_<TYPE>_API_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_AUTHORIZE_URL`, `_TOKEN_URL`, `_BOT_TOKEN`.
   */
  readonly providers: ProviderSettingsByType;
  /** Run the delivery worker inside this process (the single-machine default). `SWITCHYARD_RUN_WORKER`, default true. */
  readonly runWorker: boolean;
  /**
   * Browser origins the ingestion endpoints answer CORS for (management endpoints never do).
   * `SWITCHYARD_CORS_ORIGINS`: unset or `*` (the default) = any origin; else a comma-separated list of exact
   * origins such as `https://app.example.com`.
   */
  readonly corsOrigins: "*" | readonly string[];
  /** Per-workspace ingestion limit; see `RateLimitConfig`. */
  readonly rateLimit: RateLimitConfig;
}

/**
 * Each workspace may store `burst` events per window of ceil(burst / eventsPerSecond) seconds (a fixed
 * window), so neither the configured rate nor the burst is ever exceeded within a window. Events are
 * counted (a bulk request of 100 takes 100), not requests; rejected items are not counted.
 */
export interface RateLimitConfig {
  /** Sustained events per second per workspace; 0 turns limiting off. `SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND`, default 0. */
  readonly eventsPerSecond: number;
  /**
   * Most events a workspace may send at once. `SWITCHYARD_RATE_LIMIT_BURST`, default the larger of the rate
   * and `SWITCHYARD_MAX_BATCH_ITEMS`; it may not be smaller than either (a full bulk request must be able to pass).
   */
  readonly burst: number;
  /**
   * Where the counters live. `SWITCHYARD_RATE_LIMIT_STORE`: `memory` (default; per instance, so N instances
   * allow N times the limit) or `postgres` (the `rate_limits` table, shared by every instance on the database).
   */
  readonly store: "memory" | "postgres";
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
  const maxBatchItems = integer(env, "SWITCHYARD_MAX_BATCH_ITEMS", defaultIngestLimits.maxBatchItems, 1, 10_000);
  const databaseUrl = optional(env, "DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "must be a postgres:// or postgresql:// URL");
  }
  return Object.freeze({
    host: optional(env, "HOST") ?? "127.0.0.1",
    port,
    publicUrl: (optional(env, "SWITCHYARD_PUBLIC_URL") ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    configuredPublicUrl: optional(env, "SWITCHYARD_PUBLIC_URL")?.replace(/\/+$/, ""),
    databaseUrl,
    dataDir: resolve(env.INIT_CWD ?? process.cwd(), optional(env, "SWITCHYARD_DATA_DIR") ?? ".switchyard"),
    embeddedPgPort: integer(env, "SWITCHYARD_EMBEDDED_PG_PORT", 54329, 1, 65535),
    encryptionKey: encryptionKey(env),
    dbTimeoutMs: integer(env, "SWITCHYARD_DB_TIMEOUT_MS", 5000, 100, 600_000),
    dbPoolSize: integer(env, "SWITCHYARD_DB_POOL_SIZE", 10, 1, 1000),
    requestTimeoutMs: integer(env, "SWITCHYARD_REQUEST_TIMEOUT_MS", 30_000, 1000, 3_600_000),
    keepAliveTimeoutMs: integer(env, "SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS", 65_000, 1000, 3_600_000),
    acceptHandles: integer(env, "SWITCHYARD_ACCEPT_HANDLES", 16, 1, 64),
    ingestGroupMaxRows: integer(env, "SWITCHYARD_INGEST_GROUP_MAX_ROWS", 400, 1, 100_000),
    ingestMaxInProgress: integer(env, "SWITCHYARD_INGEST_MAX_IN_PROGRESS", 64, 0, 1_000_000),
    ingestMaxQueueWaitMs: integer(env, "SWITCHYARD_INGEST_MAX_QUEUE_WAIT_MS", 1000, 0, 600_000),
    shutdownGraceMs: integer(env, "SWITCHYARD_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    trustProxy: trustProxy(env),
    maxBodyBytes: integer(env, "SWITCHYARD_MAX_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    limits: Object.freeze({
      maxPayloadBytes: integer(env, "SWITCHYARD_MAX_PAYLOAD_BYTES", defaultIngestLimits.maxPayloadBytes, 1, 16 * 1024 * 1024),
      maxPayloadDepth: integer(env, "SWITCHYARD_MAX_PAYLOAD_DEPTH", defaultIngestLimits.maxPayloadDepth, 1, 1000),
      maxEventNameLength: integer(env, "SWITCHYARD_MAX_EVENT_NAME_LENGTH", defaultIngestLimits.maxEventNameLength, 1, 10_000),
      maxBatchItems,
    }),
    jwtClockSkewSeconds: integer(env, "SWITCHYARD_JWT_CLOCK_SKEW_SECONDS", 5, 0, 300),
    bootstrap: boolean(env, "SWITCHYARD_BOOTSTRAP", true),
    idempotencyTtlSeconds: integer(env, "SWITCHYARD_IDEMPOTENCY_TTL_HOURS", 24, 1, 24 * 365) * 3600,
    destinationAllowList: allowList(env),
    signingSecretGraceMs: integer(env, "SWITCHYARD_SIGNING_SECRET_GRACE_HOURS", 24, 0, 24 * 30) * 3_600_000,
    providers: providers(env),
    runWorker: boolean(env, "SWITCHYARD_RUN_WORKER", true),
    corsOrigins: corsOrigins(env),
    rateLimit: rateLimit(env, maxBatchItems),
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

function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  const choice = choices.find((c) => c === raw);
  if (choice === undefined) throw new ConfigError(name, `must be one of ${choices.join(", ")}, got "${raw}"`);
  return choice;
}

function corsOrigins(env: Env): "*" | readonly string[] {
  const name = "SWITCHYARD_CORS_ORIGINS";
  const raw = optional(env, name);
  if (raw === undefined || raw === "*") return "*";
  const origins = raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const origin of origins) {
    // Browsers send the serialized origin (lowercase host, no default port, no path), compared exactly.
    if (!URL.canParse(origin) || new URL(origin).origin !== origin || !/^https?:/.test(origin)) {
      throw new ConfigError(name, `"${origin}" is not an exact origin like https://app.example.com (no path, no default port)`);
    }
  }
  if (origins.length === 0) throw new ConfigError(name, "must be * or a comma-separated list of origins");
  return Object.freeze(origins);
}

function rateLimit(env: Env, maxBatchItems: number): RateLimitConfig {
  const eventsPerSecond = integer(env, "SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND", 0, 0, 10_000_000);
  const minimumBurst = Math.max(eventsPerSecond, maxBatchItems);
  const burst = integer(env, "SWITCHYARD_RATE_LIMIT_BURST", minimumBurst, 1, 1_000_000_000);
  if (eventsPerSecond > 0 && burst < minimumBurst) {
    throw new ConfigError(
      "SWITCHYARD_RATE_LIMIT_BURST",
      `must be at least SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND and SWITCHYARD_MAX_BATCH_ITEMS (${minimumBurst}), got ${burst}`,
    );
  }
  const store = oneOf(env, "SWITCHYARD_RATE_LIMIT_STORE", ["memory", "postgres"] as const, "memory");
  return Object.freeze({ eventsPerSecond, burst, store });
}

function providers(env: Env): ProviderSettingsByType {
  try {
    return parseProviderSettings(destinations.keys(), env);
  } catch (error) {
    if (error instanceof ProviderSettingsError) {
      const [variable = "", ...reason] = error.message.split(": ");
      throw new ConfigError(variable, reason.join(": "));
    }
    throw error;
  }
}

function allowList(env: Env): string {
  const raw = optional(env, "SWITCHYARD_DESTINATION_ALLOWLIST") ?? "";
  try {
    parseAddressPolicy(raw);
  } catch (error) {
    throw new ConfigError("SWITCHYARD_DESTINATION_ALLOWLIST", error instanceof Error ? error.message : String(error));
  }
  return raw;
}

function encryptionKey(env: Env): Buffer | undefined {
  const raw = optional(env, "SWITCHYARD_ENCRYPTION_KEY");
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, "base64");
  if (key.length !== 32) throw new ConfigError("SWITCHYARD_ENCRYPTION_KEY", "must be 32 bytes, base64-encoded");
  return key;
}

function trustProxy(env: Env): boolean | number | readonly string[] {
  const name = "SWITCHYARD_TRUST_PROXY";
  const raw = optional(env, name);
  if (raw === undefined || raw.toLowerCase() === "false") return false;
  if (raw.toLowerCase() === "true") return true;
  if (/^\d+$/.test(raw)) return integer(env, name, 0, 0, 100);
  const entries = raw
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  for (const entry of entries) {
    if (!isProxyAddress(entry)) {
      throw new ConfigError(name, `"${entry}" is not true, false, a hop count, an address, a subnet, loopback, linklocal or uniquelocal`);
    }
  }
  if (entries.length === 0) throw new ConfigError(name, "must be true, false, a hop count or a comma-separated list of addresses");
  return Object.freeze(entries);
}

/** What Express's `trust proxy` (proxy-addr) accepts in a list: an address, address/prefix, address/mask, or a named range. */
function isProxyAddress(entry: string): boolean {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
  const [address = "", range, ...extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIPv4(range);
}
