import { BadRequestError } from "./errors.js";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The list envelope (CONTRACT §3). */
export interface Page<T> {
  count: number;
  limit: number;
  next_cursor: string | null;
  records: T[];
}

/** The opaque cursor naming the last record of a page (ids are time-ordered UUIDv7; lists walk forward or, newest first, backward). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

/** The id a cursor names; a 400 naming `cursor` for anything this API did not hand out. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!uuidPattern.test(id))
    throw new BadRequestError("The cursor is invalid.", [{ param: "cursor", msg: "is not a cursor this API returned" }]);
  return id;
}

/**
 * Builds a page from rows fetched with `limit + 1` (the extra row only tells that more follow; it is not
 * returned), mapping each kept row to its API record.
 */
export function toPage<R extends { id: string }, T>(rows: readonly R[], limit: number, toRecord: (row: R) => T): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    count: kept.length,
    limit,
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null,
    records: kept.map(toRecord),
  };
}
