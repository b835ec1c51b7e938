import type { Db, OAuthAuthorizationsTable } from "@switchyard/db";
import type { Insertable, Selectable } from "kysely";

export type OAuthAuthorizationRow = Selectable<OAuthAuthorizationsTable>;

export async function insertOAuthAuthorization(db: Db, row: Insertable<OAuthAuthorizationsTable>): Promise<void> {
  await db.insertInto("oauth_authorizations").values(row).execute();
}

/** The authorization a `state` was issued for (by its hash), used or not, expired or not. */
export async function findOAuthAuthorization(db: Db, stateHash: Buffer): Promise<OAuthAuthorizationRow | undefined> {
  return db.selectFrom("oauth_authorizations").selectAll().where("state_hash", "=", stateHash).executeTakeFirst();
}

/**
 * Marks the authorization used, if it still is unused and unexpired: true for the one caller that did (a state is
 * completed once, however many callbacks race with it).
 */
export async function useOAuthAuthorization(db: Db, id: string): Promise<boolean> {
  const used = await db
    .updateTable("oauth_authorizations")
    .set({ used_at: new Date() })
    .where("id", "=", id)
    .where("used_at", "is", null)
    .where("expires_at", ">", new Date())
    .executeTakeFirst();
  return Number(used.numUpdatedRows) === 1;
}

/** Deletes the authorizations that expired more than a day ago (kept a day, so a late callback is told "expired", not "unknown"). */
export async function purgeOAuthAuthorizations(db: Db): Promise<void> {
  await db
    .deleteFrom("oauth_authorizations")
    .where("expires_at", "<", new Date(Date.now() - 24 * 3_600_000))
    .execute();
}
