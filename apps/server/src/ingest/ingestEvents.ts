import type { Event } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { type ItemError, type ItemOutcome, type ValidateEventInput, type ValidEventInput, validationError } from "@switchyard/event-intake";
import type { Principal } from "../auth/principal.js";
import type { NewEventRow } from "../events/events.repository.js";
import type { EventWriter } from "../events/eventWriter.js";
import { findRememberedEvents, type RememberedEvent } from "../events/idempotencyKeys.repository.js";
import { TooManyRequestsError } from "../http/errors.js";
import { uuidv7 } from "../ids.js";
import { filterOrganizationWorkspaces } from "../workspaces/workspaces.repository.js";
import { sameJson } from "./sameJson.js";
import { eventResourceOf, toEventResource } from "./toEventResource.js";
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

const foreignWorkspace: ItemError = {
  status: 403,
  name: "Forbidden",
  message: "This credential cannot write to that workspace.",
  data: [{ param: "workspace", msg: "is not a workspace this credential may write to" }],
};

const missingWorkspace = validationError([{ param: "workspace", msg: "is required with a machine token" }]);
const headerMismatch = validationError([{ param: "idempotency_key", msg: "must equal the Idempotency-Key header when both are given" }]);

function idempotencyConflict(eventId: string): ItemError {
  return {
    status: 409,
    name: "IdempotencyConflict",
    message: "This idempotency key was already used with a different event.",
    data: [{ param: "idempotency_key", msg: `was used for event ${eventId} with a different body` }],
  };
}

/** An item that passed validation and authorization, on its way to storage. */
interface Candidate {
  readonly row: NewEventRow;
  readonly payload: Record<string, unknown>;
  /** For a repeat of a key earlier in the same batch: the index of that first use. */
  readonly sameKeyAs?: number;
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
  const valid = verdicts.flatMap((v) => (v.ok ? [v.value] : []));
  const workspaceOf = await workspaceResolver(deps.db, principal, valid);
  const createdBy = principal.kind === "machine" ? principal.accessKey : principal.publicKey;

  const firstUse = new Map<string, number>();
  const stages: Array<ItemOutcome<Event> | Candidate> = verdicts.map((verdict, index) => {
    if (!verdict.ok) return verdict;
    const input = verdict.value;
    const workspace = workspaceOf(input);
    if (typeof workspace !== "string") return { ok: false, error: workspace };
    const key =
      options.bulkHeaderKey !== undefined && input.idempotency_key === undefined
        ? `${options.bulkHeaderKey}:${index}`
        : keyOf(input, options.headerKey);
    if (key === headerMismatch) return { ok: false, error: headerMismatch };
    const row: NewEventRow = {
      id: uuidv7(),
      workspace_id: workspace,
      event: input.event,
      // Meshes' default (migration 0010).
      resource: input.resource ?? "global",
      resource_id: input.resource_id ?? null,
      payloadJson: input.payloadJson,
      created_by: createdBy,
      idempotency_key: typeof key === "string" ? key : undefined,
    };
    if (typeof key !== "string") return { row, payload: input.payload };
    const scopedKey = `${workspace}\n${key}`;
    const first = firstUse.get(scopedKey);
    if (first !== undefined) return { row, payload: input.payload, sameKeyAs: first };
    firstUse.set(scopedKey, index);
    return { row, payload: input.payload };
  });

  const toStore = stages.flatMap((s) => ("row" in s && s.sameKeyAs === undefined ? [s.row] : []));
  // Nothing to store means no candidates at all (a repeat always follows a first use): every stage is an answer.
  if (toStore.length === 0) return { outcomes: stages as ItemOutcome<Event>[], rateLimit: undefined };

  const eventsByWorkspace = new Map<string, number>();
  for (const row of toStore) eventsByWorkspace.set(row.workspace_id, (eventsByWorkspace.get(row.workspace_id) ?? 0) + 1);
  const admission = await deps.rateLimiter.admit(eventsByWorkspace);
  if (!admission.admitted) throw new TooManyRequestsError(admission.workspace, admission.state);

  const { createdAt, stored } = await deps.writer.write(toStore, options.signal);

  const taken = toStore.filter((row) => !stored.has(row.id));
  const remembered = await findRememberedEvents(
    deps.db,
    taken.map((row) => ({ workspaceId: row.workspace_id, key: row.idempotency_key ?? "", payloadJson: row.payloadJson })),
  );
  const rememberedBy = new Map(remembered.map((r) => [`${r.workspace_id}\n${r.key}`, r]));

  // Every row of the statement shares its creation time: formatted once, not once per event.
  const createdAtIso = createdAt.toISOString();
  // For each first use of a key: its answer, which later uses of the key in this batch repeat if they are the same event.
  const owners = new Map<number, { readonly answer: ItemOutcome<Event>; readonly ownerId: string }>();
  const answers = stages.map((stage, index): ItemOutcome<Event> | undefined => {
    if (!("row" in stage)) return stage;
    if (stage.sameKeyAs !== undefined) return undefined;
    const { row } = stage;
    const status = stored.get(row.id);
    const original = status === undefined ? rememberedBy.get(`${row.workspace_id}\n${row.idempotency_key}`) : undefined;
    let answer: ItemOutcome<Event>;
    if (status !== undefined) {
      answer = { ok: true, event: eventResourceOf(row, status, createdAtIso) };
    } else if (original === undefined) {
      throw new Error(`the idempotency key of event ${row.id} was neither claimed nor found`);
    } else {
      const same =
        original.same_payload &&
        original.event === row.event &&
        original.resource === row.resource &&
        original.resource_id === row.resource_id;
      answer = same ? { ok: true, event: rememberedEvent(original) } : { ok: false, error: idempotencyConflict(original.id) };
    }
    owners.set(index, { answer, ownerId: original?.id ?? row.id });
    return answer;
  });

  // A repeat of a key earlier in the same batch is answered against whatever owns that key.
  const outcomes = stages.map((stage, index): ItemOutcome<Event> => {
    const answer = answers[index];
    if (answer !== undefined) return answer;
    const repeat = stage as Candidate;
    const first = stages[repeat.sameKeyAs ?? -1];
    const owner = owners.get(repeat.sameKeyAs ?? -1);
    if (owner === undefined || first === undefined || !("row" in first)) throw new Error("a repeated idempotency key has no first use");
    if (!sameEvent(first, repeat)) return { ok: false, error: idempotencyConflict(owner.ownerId) };
    return owner.answer.ok ? { ok: true, event: { ...owner.answer.event, duplicate: true } } : owner.answer;
  });
  return { outcomes, rateLimit: admission.state };
}

function keyOf(input: ValidEventInput, headerKey: string | undefined): string | undefined | typeof headerMismatch {
  if (headerKey !== undefined && input.idempotency_key !== undefined && headerKey !== input.idempotency_key) return headerMismatch;
  return input.idempotency_key ?? headerKey;
}

/** Two uses of one key are the same event when name, resource, resource id and payload (as JSON values) are. */
function sameEvent(a: Candidate, b: Candidate): boolean {
  return (
    a.row.event === b.row.event &&
    a.row.resource === b.row.resource &&
    a.row.resource_id === b.row.resource_id &&
    sameJson(a.payload, b.payload)
  );
}

function rememberedEvent(original: RememberedEvent): Event {
  return { ...toEventResource(original), duplicate: true };
}

/** Decides each valid item's workspace, or why it may not have one; one query at most. */
async function workspaceResolver(
  db: Db,
  principal: Principal,
  items: readonly ValidEventInput[],
): Promise<(item: ValidEventInput) => string | ItemError> {
  if (principal.kind === "publishableKey") {
    return (item) => (item.workspace === undefined || item.workspace === principal.workspaceId ? principal.workspaceId : foreignWorkspace);
  }
  const named = [...new Set(items.flatMap((i) => (i.workspace === undefined ? [] : [i.workspace])))];
  const allowed = await filterOrganizationWorkspaces(db, principal.organizationId, named);
  return (item) => {
    if (item.workspace === undefined) return missingWorkspace;
    return allowed.has(item.workspace) ? item.workspace : foreignWorkspace;
  };
}
