import type { Event } from "@switchyard/client";
import type { InsertedEvents, NewEventRow } from "@switchyard/db";
import { type ItemError, type ItemOutcome, type ItemVerdict, type ValidEventInput, validationError } from "@switchyard/event-intake";
import type { Principal } from "../auth/principal.js";
import type { RememberedEvent } from "./idempotencyKeys.repository.js";
import { sameJson } from "./sameJson.js";
import { eventResourceOf, toEventResource } from "./toEventResource.js";

// The pure half of ingestion; `ingestEvents` does the IO around it. Planning decides, from the validation
// verdicts, which items become rows to store and which repeat an idempotency key used earlier in the batch;
// once the rows are written and the keys that were already taken are looked up, `assembleOutcomes` answers
// each item. No database and no clock here: event ids come from `newId`.

export interface PlanOptions {
  readonly principal: Principal;
  /**
   * With a machine token, the workspaces the items name that are its organization's, each with whether it is
   * active (accepts events); unused with a publishable key.
   */
  readonly organizationWorkspaces: ReadonlyMap<string, boolean>;
  /** The `Idempotency-Key` header of a single-event request. */
  readonly headerKey?: string | undefined;
  /** The `Idempotency-Key` header of a bulk request: an item without its own key is keyed `<header>:<index>`. */
  readonly bulkHeaderKey?: string | undefined;
  /** A new event id (ingestion passes `uuidv7`). */
  readonly newId: () => string;
}

/** An item that passed validation and authorization, on its way to storage. */
export interface Candidate {
  readonly row: NewEventRow;
  readonly payload: Record<string, unknown>;
  /** For a repeat of a key earlier in the same batch: the index of that first use. */
  readonly sameKeyAs?: number;
}

export type Stage = ItemOutcome<Event> | Candidate;

export interface IngestPlan {
  /** `stages[i]` is item i's answer already (it was rejected) or the candidate it became. */
  readonly stages: readonly Stage[];
  /** The rows to write: every candidate except the repeats, so each key (per workspace) once. */
  readonly toStore: readonly NewEventRow[];
}

/** What the write reported: the rows it stored (a keyed row whose key was taken is not among them) and when. */
export type Written = Pick<InsertedEvents, "createdAt" | "stored">;

const foreignWorkspace: ItemError = {
  status: 403,
  name: "Forbidden",
  message: "This credential cannot write to that workspace.",
  data: [{ param: "workspace", msg: "is not a workspace this credential may write to" }],
};

const inactiveWorkspace: ItemError = {
  status: 403,
  name: "WorkspaceInactive",
  message: "The workspace is inactive: it accepts no new events.",
  data: [{ param: "workspace", msg: "is inactive" }],
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

/** Turns each verdict into an answer (rejected) or a candidate row, and marks the repeats of a key within the batch. */
export function planIngest(verdicts: readonly ItemVerdict[], options: PlanOptions): IngestPlan {
  const workspaceOf = workspaceDecider(options.principal, options.organizationWorkspaces);
  const createdBy = options.principal.kind === "machine" ? options.principal.accessKey : options.principal.publicKey;
  const firstUse = new Map<string, number>();
  const stages = verdicts.map((verdict, index): Stage => {
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
      id: options.newId(),
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
    const first = firstUse.get(scopedKey(workspace, key));
    if (first !== undefined) return { row, payload: input.payload, sameKeyAs: first };
    firstUse.set(scopedKey(workspace, key), index);
    return { row, payload: input.payload };
  });
  const toStore = stages.flatMap((s) => ("row" in s && s.sameKeyAs === undefined ? [s.row] : []));
  return { stages, toStore };
}

/** The answers of a plan with nothing to store: every item was rejected (a repeat always follows a first use). */
export function rejectedOutcomes(plan: IngestPlan): ItemOutcome<Event>[] {
  return plan.stages.map((stage) => {
    if ("row" in stage) throw new Error("a plan with a candidate has rows to store");
    return stage;
  });
}

/** How many events each workspace is about to store: what the rate limit counts. */
export function eventsByWorkspace(rows: readonly NewEventRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.workspace_id, (counts.get(row.workspace_id) ?? 0) + 1);
  return counts;
}

/** The keyed rows the write did not store because their key was already taken: their originals are to be looked up. */
export function takenKeys(
  rows: readonly NewEventRow[],
  stored: Written["stored"],
): Array<{ workspaceId: string; key: string; payloadJson: string }> {
  return rows
    .filter((row) => !stored.has(row.id))
    .map((row) => ({ workspaceId: row.workspace_id, key: row.idempotency_key ?? "", payloadJson: row.payloadJson }));
}

/** A key's first use in the batch: its answer, and the event that owns the key (the stored row or the original). */
interface Owner {
  readonly answer: ItemOutcome<Event>;
  readonly ownerId: string;
}

/**
 * Answers every item in input order: a stored row with its event; a row whose key was taken with the original
 * event (`duplicate: true`) when it is the same event, else an `IdempotencyConflict`; a repeat within the batch
 * the way its key's first use was answered, or with a conflict when it is not the same event.
 */
export function assembleOutcomes(plan: IngestPlan, written: Written, remembered: readonly RememberedEvent[]): ItemOutcome<Event>[] {
  const rememberedBy = new Map(remembered.map((r) => [scopedKey(r.workspace_id, r.key), r]));
  // Every row of the statement shares its creation time: formatted once, not once per event.
  const createdAtIso = written.createdAt.toISOString();
  const owners = new Map<number, Owner>();
  const firstAnswers = plan.stages.map((stage, index): ItemOutcome<Event> | undefined => {
    if (!("row" in stage)) return stage;
    if (stage.sameKeyAs !== undefined) return undefined;
    const owner = answerFirstUse(stage.row, written.stored.get(stage.row.id), rememberedBy, createdAtIso);
    owners.set(index, owner);
    return owner.answer;
  });
  return plan.stages.map((stage, index) => firstAnswers[index] ?? answerRepeat(plan.stages, stage as Candidate, owners));
}

function answerFirstUse(
  row: NewEventRow,
  status: string | undefined,
  rememberedBy: ReadonlyMap<string, RememberedEvent>,
  createdAtIso: string,
): Owner {
  if (status !== undefined) return { answer: { ok: true, event: eventResourceOf(row, status, createdAtIso) }, ownerId: row.id };
  const original = rememberedBy.get(scopedKey(row.workspace_id, row.idempotency_key));
  if (original === undefined) throw new Error(`the idempotency key of event ${row.id} was neither claimed nor found`);
  const same =
    original.same_payload && original.event === row.event && original.resource === row.resource && original.resource_id === row.resource_id;
  const answer: ItemOutcome<Event> = same
    ? { ok: true, event: { ...toEventResource(original), duplicate: true } }
    : { ok: false, error: idempotencyConflict(original.id) };
  return { answer, ownerId: original.id };
}

/** A repeat of a key earlier in the same batch is answered against whatever owns that key. */
function answerRepeat(stages: readonly Stage[], repeat: Candidate, owners: ReadonlyMap<number, Owner>): ItemOutcome<Event> {
  const first = stages[repeat.sameKeyAs ?? -1];
  const owner = owners.get(repeat.sameKeyAs ?? -1);
  if (owner === undefined || first === undefined || !("row" in first)) throw new Error("a repeated idempotency key has no first use");
  if (!sameEvent(first, repeat)) return { ok: false, error: idempotencyConflict(owner.ownerId) };
  return owner.answer.ok ? { ok: true, event: { ...owner.answer.event, duplicate: true } } : owner.answer;
}

/** Decides each valid item's workspace, or why it may not have one. */
function workspaceDecider(
  principal: Principal,
  organizationWorkspaces: ReadonlyMap<string, boolean>,
): (item: ValidEventInput) => string | ItemError {
  if (principal.kind === "publishableKey") {
    const own = principal.workspaceActive ? principal.workspaceId : inactiveWorkspace;
    return (item) => (item.workspace === undefined || item.workspace === principal.workspaceId ? own : foreignWorkspace);
  }
  return (item) => {
    if (item.workspace === undefined) return missingWorkspace;
    const active = organizationWorkspaces.get(item.workspace);
    if (active === undefined) return foreignWorkspace;
    return active ? item.workspace : inactiveWorkspace;
  };
}

function keyOf(input: ValidEventInput, headerKey: string | undefined): string | undefined | typeof headerMismatch {
  if (headerKey !== undefined && input.idempotency_key !== undefined && headerKey !== input.idempotency_key) return headerMismatch;
  return input.idempotency_key ?? headerKey;
}

/** An idempotency key is remembered per workspace. */
function scopedKey(workspaceId: string, key: string | undefined): string {
  return `${workspaceId}\n${key}`;
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
