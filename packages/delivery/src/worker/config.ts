import { destinations, type ProviderSettingsByType, parseProviderSettings } from "@switchyard/destinations";

/** The delivery worker's settings, parsed once at start. */
export interface DeliveryWorkerConfig {
  /** graphile-worker jobs run at once per process; a job claims a batch and hands its attempts off. `SWITCHYARD_WORKER_CONCURRENCY`, default 16. */
  readonly concurrency: number;
  /** One attempt's limit, connect to last byte. `SWITCHYARD_DELIVERY_TIMEOUT_MS`, default 15000. */
  readonly deliveryTimeoutMs: number;
  /** Beyond the timeout, how long a claimed attempt may stay unrecorded before it is presumed lost. `SWITCHYARD_DELIVERY_LEASE_MARGIN_MS`, default 15000. */
  readonly leaseMarginMs: number;
  /** Multiplies the retry schedule (1 = the schedule's real hours; tests compress it). `SWITCHYARD_RETRY_SCHEDULE_SCALE`, default 1. */
  readonly retryScheduleScale: number;
  /** A connection whose every attempt has failed for this long is deactivated. `SWITCHYARD_DEACTIVATE_AFTER_HOURS`, default 120 (5 days). */
  readonly deactivateAfterMs: number;
  /** Non-public destinations allowed anyway (CIDRs and host names, comma-separated). `SWITCHYARD_DESTINATION_ALLOWLIST`, default none. */
  readonly destinationAllowList: string;
  /** How often lost attempts, and outbox rows left waiting this long with no route job, are looked for. `SWITCHYARD_LEASE_SWEEP_MS`, default 5000. */
  readonly leaseSweepMs: number;
  /** graphile-worker's poll interval when LISTEN/NOTIFY is quiet. `SWITCHYARD_WORKER_POLL_MS`, default 1000. */
  readonly pollIntervalMs: number;
  /** Attempts in flight at once in this process (they do not hold job slots). `SWITCHYARD_DELIVERY_MAX_IN_FLIGHT`, default 1024. */
  readonly maxInFlight: number;
  /**
   * Attempts in flight at once to one connection, across every worker: a hanging destination holds at most
   * this many, the rest wait their turn without delaying others. `SWITCHYARD_DELIVERY_MAX_PER_CONNECTION`, default 256:
   * an attempt counts from its claim until its record commits, so a destination taking 1,000 events/s needs about
   * 50 under load (~50 ms each), more in bursts; at the cap, deliveries take the slower deferred path.
   */
  readonly maxInFlightPerConnection: number;
  /** The first wait before deliveries that found no free slot are looked at again (doubling while its connection makes no progress, up to 5 s). `SWITCHYARD_DELIVERY_DEFER_MS`, default 250. */
  readonly deferMs: number;
  /**
   * A due delivery with no attempt for this long gets a job of its own (its job was lost with a worker
   * that died before claiming it). `SWITCHYARD_DELIVERY_STALE_MS`, default 120000.
   */
  readonly staleAfterMs: number;
  /** Per provider: its API origin, OAuth app and bot token (`SWITCHYARD_<TYPE>_API_URL`, `_CLIENT_ID`...; see `parseProviderSettings`). */
  readonly providers: ProviderSettingsByType;
}

export class DeliveryConfigError extends Error {
  override readonly name = "DeliveryConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseDeliveryWorkerConfig(env: Env = process.env): DeliveryWorkerConfig {
  return Object.freeze({
    concurrency: number(env, "SWITCHYARD_WORKER_CONCURRENCY", 16, 1, 1000, true),
    deliveryTimeoutMs: number(env, "SWITCHYARD_DELIVERY_TIMEOUT_MS", 15_000, 100, 300_000, true),
    leaseMarginMs: number(env, "SWITCHYARD_DELIVERY_LEASE_MARGIN_MS", 15_000, 100, 3_600_000, true),
    retryScheduleScale: number(env, "SWITCHYARD_RETRY_SCHEDULE_SCALE", 1, 0.000001, 1000, false),
    deactivateAfterMs: number(env, "SWITCHYARD_DEACTIVATE_AFTER_HOURS", 120, 0.0001, 24 * 365, false) * 3_600_000,
    destinationAllowList: env.SWITCHYARD_DESTINATION_ALLOWLIST?.trim() ?? "",
    leaseSweepMs: number(env, "SWITCHYARD_LEASE_SWEEP_MS", 5_000, 50, 3_600_000, true),
    pollIntervalMs: number(env, "SWITCHYARD_WORKER_POLL_MS", 1_000, 10, 60_000, true),
    maxInFlight: number(env, "SWITCHYARD_DELIVERY_MAX_IN_FLIGHT", 1024, 1, 100_000, true),
    maxInFlightPerConnection: number(env, "SWITCHYARD_DELIVERY_MAX_PER_CONNECTION", 256, 1, 10_000, true),
    deferMs: number(env, "SWITCHYARD_DELIVERY_DEFER_MS", 250, 10, 60_000, true),
    staleAfterMs: number(env, "SWITCHYARD_DELIVERY_STALE_MS", 120_000, 100, 86_400_000, true),
    providers: providerSettings(env),
  });
}

function providerSettings(env: Env): ProviderSettingsByType {
  try {
    return parseProviderSettings(destinations.keys(), env);
  } catch (error) {
    throw new DeliveryConfigError(error instanceof Error ? error.message : String(error));
  }
}

function number(env: Env, name: string, fallback: number, min: number, max: number, integer: boolean): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new DeliveryConfigError(`${name}: must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
