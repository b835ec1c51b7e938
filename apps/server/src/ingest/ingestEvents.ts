import type { Event } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import type { ItemOutcome, ItemVerdict, ValidateEventInput } from "@switchyard/event-intake";
import type { Principal } from "../auth/principal.js";
import { TooManyRequestsError } from "../http/errors.js";
import { uuidv7 } from "../ids.js";
import { filterOrganizationWorkspaces } from "../workspaces/workspaces.repository.js";
import type { EventWriter } from "./eventWriter.js";
import { findRememberedEvents } from "./idempotencyKeys.repository.js";
import { assembleOutcomes, eventsByWorkspace, planIngest, rejectedOutcomes, takenKeys } from "./planIngest.js";
import type { RateLimitState, WorkspaceRateLimiter } from "./workspaceRateLimiter.js";

export interface IngestDeps {
  readonly db: Db;
  readonly validateEventInput: ValidateEventInput;
  /** Stores the accepted rows (with their routing), grouped with concurrent requests' rows. */
  readonly writer: EventWriter;
  /** Each workspace's event budget; asked once per request, for the items about to be stored. */
  readonly rateLimiter: WorkspaceRateLimiter;
}

export interface IngestResult {
  /** `outcomes[i]` answers item i. */
  readonly outcomes: ItemOutcome<Event>[];
  /** The tightest budget the request drew on, for the `RateLimit-*` headers; undefined when unlimited. */
  readonly rateLimit: RateLimitState | undefined;
}

export interface IngestOptions {
  /** How a root-level validation error names the item: "item" (bulk) or "body" (single). */
  readonly root?: string;
  /** The `Idempotency-Key` header of a single-event request. */
  readonly headerKey?: string | undefined;
  /**
   * The `Idempotency-Key` header of a bulk request: each item without its own `idempotency_key` is keyed
   * `<header>:<index>`, so that the same bulk sent again with the same header stores nothing twice.
   */
  readonly bulkHeaderKey?: string | undefined;
  /** Aborted when the request was answered without waiting for this (its deadline): a batch not yet written is then not written. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Validates, authorizes and stores a batch of event inputs, answering each item in input order. The
 * accepted items are written in one statement, so they are all committed (before this resolves) or, when
 * it throws, none are; a rejected item leaves nothing behind. An item whose idempotency key is already
 * remembered is answered with the original event (`duplicate: true`) and stores nothing.
 *
 * The rate limit counts the items about to be stored (rejected items cost nothing); when a workspace's
 * budget cannot take them, the whole request is refused with TooManyRequestsError and nothing is stored.
 */
export async function ingestEvents(
  deps: IngestDeps,
  principal: Principal,
  items: readonly unknown[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const verdicts = items.map((item) => deps.validateEventInput(item, options.root));
  const plan = planIngest(verdicts, {
    principal,
    organizationWorkspaces: await organizationWorkspacesNamed(deps.db, principal, verdicts),
    headerKey: options.headerKey,
    bulkHeaderKey: options.bulkHeaderKey,
    newId: uuidv7,
  });
  if (plan.toStore.length === 0) return { outcomes: rejectedOutcomes(plan), rateLimit: undefined };

  const admission = await deps.rateLimiter.admit(eventsByWorkspace(plan.toStore));
  if (!admission.admitted) throw new TooManyRequestsError(admission.workspace, admission.state);
  const written = await deps.writer.write(plan.toStore, options.signal);
  const remembered = await findRememberedEvents(deps.db, takenKeys(plan.toStore, written.stored));
  return { outcomes: assembleOutcomes(plan, written, remembered), rateLimit: admission.state };
}

/** With a machine token: which of the workspaces its valid items name are its organization's, and active (one query at most). */
async function organizationWorkspacesNamed(
  db: Db,
  principal: Principal,
  verdicts: readonly ItemVerdict[],
): Promise<ReadonlyMap<string, boolean>> {
  if (principal.kind !== "machine") return new Map();
  const named = [...new Set(verdicts.flatMap((v) => (v.ok && v.value.workspace !== undefined ? [v.value.workspace] : [])))];
  return filterOrganizationWorkspaces(db, principal.organizationId, named);
}
