import type { Migration } from "kysely/migration";
import * as initial from "./0001_initial.js";
import * as idempotencyKeys from "./0002_idempotency_keys.js";
import * as routing from "./0003_routing.js";
import * as rateLimits from "./0004_rate_limits.js";
import * as deferredRouting from "./0005_deferred_routing.js";
import * as claimFunction from "./0006_claim_function.js";
import * as oneEventUpdate from "./0007_one_event_update.js";
import * as routeOutbox from "./0008_route_outbox.js";
import * as genericClaimPlans from "./0009_generic_claim_plans.js";
import * as globalResource from "./0010_global_resource.js";

/** Every migration, in order. Forward-only: a landed migration is never edited; add a new one. */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  "0001_initial": initial,
  "0002_idempotency_keys": idempotencyKeys,
  "0003_routing": routing,
  "0004_rate_limits": rateLimits,
  "0005_deferred_routing": deferredRouting,
  "0006_claim_function": claimFunction,
  "0007_one_event_update": oneEventUpdate,
  "0008_route_outbox": routeOutbox,
  "0009_generic_claim_plans": genericClaimPlans,
  "0010_global_resource": globalResource,
});
