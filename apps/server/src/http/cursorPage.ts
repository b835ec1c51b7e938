import { type SelectQueryBuilder, type StringReference, sql } from "kysely";
import { BadRequestError } from "./errors.js";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The list envelope: `count` records of at most `limit`, and `next_cursor` for `?cursor=` (null on the last page). */
export interface Page<T> {
  count: number;
  limit: number;
  next_cursor: string | null;
  records: T[];
}

/** What a list request asks for, as the validator checked it: `limit` (default 50) and the `cursor` it was handed. */
export function pageParams(query: { readonly limit?: number | string; readonly cursor?: string }): {
  limit: number;
  cursor: string | undefined;
} {
  return { limit: Number(query.limit ?? 50), cursor: query.cursor };
}

/** The window a repository fetches: at most `limit` rows, starting past the row whose id a cursor named. */
export interface PageWindow {
  readonly limit: number;
  readonly cursorId?: string | undefined;
}

/** The window of a list request; a 400 naming `cursor` for a cursor this API did not hand out. */
export function pageWindow(page: { readonly limit: number; readonly cursor?: string | undefined }): PageWindow {
  return { limit: page.limit, cursorId: decodeCursor(page.cursor) };
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
 * Runs `query` for one page, keyset-paged on its `id` column (UUIDv7, so creation order): ascending past
 * `cursorId`, or, `desc` (newest first), descending below it. Later pages stay stable while rows arrive (a
 * new row sorts before page one of a newest-first list). Fetches one row more than `limit`: `toPage` drops
 * it, having learnt from it that more follow.
 */
export function fetchPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  id: StringReference<DB, TB>,
  order: "asc" | "desc",
  window: PageWindow,
): Promise<O[]> {
  const column = sql.ref(id);
  const past = window.cursorId === undefined ? query : query.where(column, order === "asc" ? ">" : "<", window.cursorId);
  return past
    .orderBy(column, order)
    .limit(window.limit + 1)
    .execute();
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
