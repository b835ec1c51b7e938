import type pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimitConfig } from "../config.js";
import type { Logger } from "../logger.js";

/** A workspace's budget as the `RateLimit-*` headers report it. */
export interface RateLimitState {
  /** Events per window (the burst). */
  readonly limit: number;
  /** Events left in the current window. */
  readonly remaining: number;
  /** Whole seconds, at least 1, until the current window ends and the budget is full again. */
  readonly resetSeconds: number;
}

export type Admission =
  /** `state` is the tightest workspace's, or undefined when limiting is off (or its store failed open). */
  | { readonly admitted: true; readonly state: RateLimitState | undefined }
  | { readonly admitted: false; readonly workspace: string; readonly state: RateLimitState };

export interface WorkspaceRateLimiter {
  /**
   * Takes each workspace's events from its budget, all or nothing: when any workspace would be overdrawn,
   * the request is refused and takes nothing from any budget (so a smaller request may still pass).
   */
  admit(eventsByWorkspace: ReadonlyMap<string, number>): Promise<Admission>;
}

export const unlimited: WorkspaceRateLimiter = { admit: async () => ({ admitted: true, state: undefined }) };

export interface WorkspaceRateLimiterDeps {
  /** The server's pool; the `postgres` store keeps its counters in the `rate_limits` table (migration 0004). */
  readonly pool: pg.Pool;
  readonly log: Logger;
}

type Limiter = RateLimiterMemory | RateLimiterPostgres;

interface Taken {
  readonly limiter: Limiter;
  readonly workspace: string;
  readonly events: number;
  readonly admitted: boolean;
  readonly result: RateLimiterRes;
}

/**
 * A fixed-window limiter per workspace (rate-limiter-flexible): `burst` events per window of
 * ceil(burst / eventsPerSecond) seconds. With the `postgres` store every instance shares one counter per
 * workspace. When that store fails (database down, table missing), the request is counted on this
 * instance's own in-memory counter instead, with a warning: a store outage neither fails ingestion nor
 * lifts the limit, it only stops sharing it. Should even that fail, the request is admitted and logged.
 */
export function createWorkspaceRateLimiter(config: RateLimitConfig, deps: WorkspaceRateLimiterDeps): WorkspaceRateLimiter {
  if (config.eventsPerSecond === 0) return unlimited;
  const options = { keyPrefix: "events", points: config.burst, duration: Math.ceil(config.burst / config.eventsPerSecond) };
  const local = new RateLimiterMemory(options);
  const shared =
    config.store === "postgres"
      ? new RateLimiterPostgres({ ...options, storeClient: deps.pool, storeType: "pool", tableName: "rate_limits", tableCreated: true })
      : undefined;

  const take = async (workspace: string, events: number): Promise<Taken | undefined> => {
    if (shared !== undefined) {
      try {
        return await consume(shared, workspace, events);
      } catch (error) {
        deps.log.warn({ err: error, workspace }, "rate-limit store failed; counting this request on this instance alone");
      }
    }
    try {
      return await consume(local, workspace, events);
    } catch (error) {
      deps.log.error({ err: error, workspace }, "rate limiter failed; admitting the request unlimited");
      return undefined;
    }
  };

  const giveBack = async (taken: Taken): Promise<void> => {
    try {
      await taken.limiter.reward(taken.workspace, taken.events);
    } catch (error) {
      deps.log.warn({ err: error, workspace: taken.workspace }, "rate-limit store failed to give back a refused request's events");
    }
  };

  return {
    async admit(eventsByWorkspace) {
      const all = await Promise.all([...eventsByWorkspace].map(([workspace, events]) => take(workspace, events)));
      const taken = all.filter((t): t is Taken => t !== undefined);
      const refused = taken.filter((t) => !t.admitted).sort((a, b) => b.result.msBeforeNext - a.result.msBeforeNext)[0];
      if (refused !== undefined) {
        await Promise.all(taken.map(giveBack));
        const remaining = Math.max(config.burst - (refused.result.consumedPoints - refused.events), 0);
        return { admitted: false, workspace: refused.workspace, state: stateOf(config.burst, remaining, refused.result) };
      }
      const tightest = taken.sort((a, b) => a.result.remainingPoints - b.result.remainingPoints)[0];
      return { admitted: true, state: tightest && stateOf(config.burst, tightest.result.remainingPoints, tightest.result) };
    },
  };
}

/** Resolves with the outcome; rejects only when the store itself failed. */
async function consume(limiter: Limiter, workspace: string, events: number): Promise<Taken> {
  try {
    return { limiter, workspace, events, admitted: true, result: await limiter.consume(workspace, events) };
  } catch (outcome) {
    // The library rejects with a RateLimiterRes when the budget is overdrawn, and with an Error when its store fails.
    if (outcome instanceof RateLimiterRes) return { limiter, workspace, events, admitted: false, result: outcome };
    throw outcome;
  }
}

function stateOf(limit: number, remaining: number, result: RateLimiterRes): RateLimitState {
  return { limit, remaining, resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)) };
}
