import { type ItemError, reasonPhrases } from "./itemError.js";

/** What became of one bulk item: the stored event, or why it was rejected. */
export type ItemOutcome<TEvent> = { readonly ok: true; readonly event: TEvent } | { readonly ok: false; readonly error: ItemError };

export interface BulkErrorRecord {
  readonly type: "error";
  readonly index: number;
  readonly message: string;
  readonly error: { readonly name: string; readonly message: string; readonly data?: ItemError["data"] };
}

export type BulkRecord<TEvent> = (TEvent & { readonly index: number }) | BulkErrorRecord;

export interface BulkResult<TEvent> {
  /** 201 when every item was accepted, 207 when at least one was rejected (even all of them). */
  readonly status: 201 | 207;
  readonly body: {
    readonly count: number;
    readonly error_count: number;
    readonly records: BulkRecord<TEvent>[];
  };
}

/** Builds the bulk answer: `records[i]` answers input `i` and carries `index: i`. */
export function assembleBulkResult<TEvent extends object>(outcomes: readonly ItemOutcome<TEvent>[]): BulkResult<TEvent> {
  let errorCount = 0;
  const records = outcomes.map((outcome, index): BulkRecord<TEvent> => {
    // Object.assign, not { ...event, index }: V8 copies through a slow path when a spread is followed by
    // another property, which cost more than the rest of the answer (~1.5 µs a record against ~0.2).
    if (outcome.ok) return Object.assign({}, outcome.event, { index });
    errorCount += 1;
    const { status, name, message, data } = outcome.error;
    return {
      type: "error",
      index,
      message: reasonPhrases[status],
      error: data === undefined ? { name, message } : { name, message, data },
    };
  });
  return {
    status: errorCount === 0 ? 201 : 207,
    body: { count: outcomes.length, error_count: errorCount, records },
  };
}
