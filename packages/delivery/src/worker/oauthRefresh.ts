import { performance } from "node:perf_hooks";
import type { ClaimedDelivery, Db } from "@switchyard/db";
import {
  type AttemptFacts,
  type DeliveryContext,
  type DestinationPlugin,
  type OAuthSecrets,
  oauthClientOf,
  requestTokens,
  type TokenFailureKind,
} from "@switchyard/destinations";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { sql } from "kysely";
import { deactivateConnection } from "./attemptRecords.js";

/** Refresh an access token that expires within this much time, before the attempt that would use it. */
export const refreshMarginMs = 5 * 60_000;

/** Sends one attempt with these secrets, within `timeoutMs`. */
export type SendAttempt = (secrets: unknown, timeoutMs: number) => Promise<AttemptFacts>;

/**
 * Keeps OAuth connections' access tokens fresh around their attempts (`attempt`): a token expiring within
 * `refreshMarginMs` is refreshed first, and an attempt refused as `auth_failed` (a 401, or the plugin's
 * `providerOutcome`) is followed by one refresh and one repeat. New tokens are sealed and stored by
 * compare-and-set on the stored ciphertext; one refresh per connection at a time in this process.
 */
export interface OAuthTokens {
  attempt(
    delivery: ClaimedDelivery,
    plugin: DestinationPlugin,
    secrets: unknown,
    send: SendAttempt,
    timeoutMs: number,
  ): Promise<AttemptFacts>;
}

export interface OAuthTokensDeps {
  readonly db: Db;
  readonly secretBox: SecretBox;
  /** The worker's context: the address policy the token endpoint is reached under, and the operator's OAuth apps. */
  readonly context: DeliveryContext;
  readonly now?: () => Date;
}

/** A connection's secrets as this process knows them, with the ciphertext they were opened from. */
interface Known {
  readonly ciphertext: string;
  readonly secrets: OAuthSecrets;
}

type Refreshed =
  | { readonly ok: true; readonly known: Known }
  | {
      readonly ok: false;
      readonly kind: TokenFailureKind;
      /** The token endpoint's answer as the attempt's facts; absent when no request was made (nothing to refresh with). */
      readonly facts?: AttemptFacts;
      readonly message: string;
    };

/** Why a refresh is asked: the token is about to expire, or the provider just refused it. */
type Reason = "expiring" | "refused";

/** Most connections whose newest tokens this process remembers (`latest`); beyond it, the memory starts over. */
const maxRemembered = 4096;

export function createOAuthTokens(deps: OAuthTokensDeps): OAuthTokens {
  const now = deps.now ?? (() => new Date());
  // One refresh per connection at a time: attempts that need one while it runs wait for it and take its outcome.
  const inFlight = new Map<string, Promise<Refreshed>>();
  // Per connection, the newest tokens this process stored or read, and the ciphertexts they replaced: a delivery
  // claimed before a refresh (carrying the replaced ciphertext) is sent with the new tokens without a database read.
  const latest = new Map<string, Known & { readonly superseded: ReadonlySet<string> }>();

  const remember = (connectionId: string, from: string, known: Known) => {
    if (from === known.ciphertext) return;
    if (latest.size >= maxRemembered) latest.clear();
    const superseded = new Set([...(latest.get(connectionId)?.superseded ?? []), from].slice(-8));
    latest.set(connectionId, { ...known, superseded });
  };
  const current = (delivery: ClaimedDelivery, secrets: OAuthSecrets): Known => {
    const known = latest.get(delivery.connection_id);
    return known?.superseded.has(delivery.secrets_ciphertext) ? known : { ciphertext: delivery.secrets_ciphertext, secrets };
  };
  const refresh = (delivery: ClaimedDelivery, plugin: DestinationPlugin, known: Known, reason: Reason, timeoutMs: number) => {
    const running = inFlight.get(delivery.connection_id);
    if (running !== undefined) return running;
    const store = { deps, now, remember };
    const started = refreshOnce(store, delivery, plugin, known, reason, timeoutMs).finally(() => inFlight.delete(delivery.connection_id));
    inFlight.set(delivery.connection_id, started);
    return started;
  };

  return {
    async attempt(delivery, plugin, secrets, send, timeoutMs) {
      if (!isOAuthSecrets(secrets)) return send(secrets, timeoutMs);
      const deadline = performance.now() + timeoutMs;
      const left = () => Math.max(1, Math.round(deadline - performance.now()));
      let known = current(delivery, secrets);
      if (expiresWithin(known.secrets, now(), refreshMarginMs) && known.secrets.refresh_token !== undefined) {
        const refreshed = await refresh(delivery, plugin, known, "expiring", left());
        if (refreshed.ok) known = refreshed.known;
        // The grant is gone (the connection is now inactive); or the token endpoint failed for now and the token has
        // run out: the delivery is retried. Otherwise the attempt goes with the token it has.
        else if (
          refreshed.facts !== undefined &&
          (refreshed.kind === "reauthorize" || (refreshed.kind === "unavailable" && expiresWithin(known.secrets, now(), 0)))
        )
          return refreshed.facts;
      }
      const first = await send(known.secrets, left());
      if (!refusedAuth(first) || known.secrets.refresh_token === undefined) return first;
      const refreshed = await refresh(delivery, plugin, known, "refused", left());
      if (!refreshed.ok) {
        const message = `the access token was refused, and ${refreshed.message}`;
        return refreshed.facts === undefined || refreshed.kind === "refused" ? { ...first, message } : { ...refreshed.facts, message };
      }
      const second = await send(refreshed.known.secrets, left());
      return {
        ...second,
        durationMs: first.durationMs + second.durationMs,
        message: second.message ?? "the access token was refused, refreshed, and the request sent again",
      };
    },
  };
}

interface Store {
  readonly deps: OAuthTokensDeps;
  readonly now: () => Date;
  readonly remember: (connectionId: string, from: string, known: Known) => void;
}

/**
 * One refresh: from the stored secrets (another attempt or worker may have refreshed since this delivery was
 * claimed: then those are used, if they answer `reason`), stored by compare-and-set (a worker that lost the race
 * takes the winner's). A refresh token the provider no longer honours deactivates the connection.
 */
async function refreshOnce(
  store: Store,
  delivery: ClaimedDelivery,
  plugin: DestinationPlugin,
  known: Known,
  reason: Reason,
  timeoutMs: number,
): Promise<Refreshed> {
  const { deps } = store;
  const id = delivery.connection_id;
  const stored = await readStored(store, id);
  if (stored === undefined) return notRefreshed("refused", "the connection was deactivated or deleted while its token was refreshed");
  if (stored.ciphertext !== known.ciphertext && storedAnswers(stored, known, reason, store.now())) {
    store.remember(id, known.ciphertext, stored);
    return { ok: true, known: stored };
  }
  const refreshToken = stored.secrets.refresh_token;
  const client = plugin.oauth && oauthClientOf(delivery.integration_type, plugin.oauth, deps.context.providers);
  if (refreshToken === undefined) return notRefreshed("refused", "the connection has no refresh token; re-authorize it");
  if (client === undefined) {
    const prefix = `SWITCHYARD_${delivery.integration_type.toUpperCase()}`;
    return notRefreshed("refused", `the access token cannot be refreshed: ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET are not set`);
  }
  const answer = await requestTokens(client, { grantType: "refresh_token", refreshToken }, deps.context, {
    timeoutMs,
    now: store.now,
    previous: stored.secrets,
  });
  if (answer.ok) return { ok: true, known: await storeRefreshed(store, id, stored, answer.secrets) };
  if (answer.kind !== "reauthorize") return { ok: false, kind: answer.kind, facts: answer.facts, message: answer.message };
  // Refused: unless another worker rotated the token meanwhile (then its tokens are the good ones), only the user can fix it.
  const after = await storedAfterRefusal(store, id, stored.ciphertext);
  if (after !== "unchanged")
    return after === "inactive" ? notRefreshed("refused", "the connection was deactivated meanwhile") : { ok: true, known: after };
  const detail = `the OAuth refresh token was refused (${answer.error ?? "refused"}); re-authorize the connection with POST /api/v1/connections/${id}/oauth`;
  await deps.db.transaction().execute((trx) => deactivateConnection(trx, id, detail, "oauth_reauthorization_required", stored.ciphertext));
  const message = `${answer.message}; connection deactivated: ${detail}`;
  return { ok: false, kind: "reauthorize", facts: { ...answer.facts, message }, message };
}

/** How long a refused refresh waits for a concurrent one (another worker's, which rotated the token first) to store its tokens. */
const concurrentRefreshGraceMs = 2_000;
const gracePollMs = 250;

/**
 * The stored secrets after the provider refused `ciphertext`'s refresh token: another worker that refreshed with
 * the same token a moment earlier (the provider rotated it, then refused it to us) stores its tokens as soon as
 * its answer arrives, so they are looked for during a short grace before the refusal is believed.
 */
async function storedAfterRefusal(store: Store, id: string, ciphertext: string): Promise<Known | "inactive" | "unchanged"> {
  const until = performance.now() + concurrentRefreshGraceMs;
  for (;;) {
    const stored = await readStored(store, id);
    if (stored === undefined) return "inactive";
    if (stored.ciphertext !== ciphertext) return stored;
    if (performance.now() >= until) return "unchanged";
    await new Promise((resolve) => setTimeout(resolve, gracePollMs));
  }
}

/** Whether the stored secrets (newer than the attempt's) serve: not about to expire, or another access token than the refused one. */
function storedAnswers(stored: Known, known: Known, reason: Reason, at: Date): boolean {
  return reason === "expiring"
    ? !expiresWithin(stored.secrets, at, refreshMarginMs)
    : stored.secrets.access_token !== known.secrets.access_token;
}

/** Stores the new tokens if the stored ones are still those refreshed; else another worker won, and its tokens are read. */
async function storeRefreshed(store: Store, id: string, from: Known, secrets: OAuthSecrets): Promise<Known> {
  const ciphertext = store.deps.secretBox.seal(JSON.stringify(secrets), secretContext.connection(id));
  const updated = await sql`
    update connections set secrets_ciphertext = ${ciphertext}, updated_at = now()
    where id = ${id} and secrets_ciphertext = ${from.ciphertext}`.execute(store.deps.db);
  const known =
    Number(updated.numAffectedRows ?? 0n) === 1 ? { ciphertext, secrets } : ((await readStored(store, id)) ?? { ciphertext, secrets });
  store.remember(id, from.ciphertext, known);
  return known;
}

/** The connection's stored secrets, opened; undefined when it is no longer active (or its secrets are not OAuth tokens). */
async function readStored(store: Store, id: string): Promise<Known | undefined> {
  const row = await store.deps.db
    .selectFrom("connections")
    .select(["secrets_ciphertext", "active"])
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (row === undefined || !row.active) return undefined;
  const secrets = JSON.parse(store.deps.secretBox.open(row.secrets_ciphertext, secretContext.connection(id))) as unknown;
  return isOAuthSecrets(secrets) ? { ciphertext: row.secrets_ciphertext, secrets } : undefined;
}

function notRefreshed(kind: TokenFailureKind, message: string): Refreshed {
  return { ok: false, kind, message };
}

/** A 401, or what the plugin read as `auth_failed`; a 403 is not (another token would not be allowed more). */
function refusedAuth(facts: AttemptFacts): boolean {
  return facts.providerOutcome === "auth_failed" || (facts.providerOutcome === undefined && facts.httpStatus === 401);
}

function expiresWithin(secrets: OAuthSecrets, at: Date, marginMs: number): boolean {
  if (secrets.expires_at === undefined) return false;
  const expiresAt = Date.parse(secrets.expires_at);
  return Number.isFinite(expiresAt) && expiresAt - at.getTime() <= marginMs;
}

function isOAuthSecrets(secrets: unknown): secrets is OAuthSecrets {
  return typeof secrets === "object" && secrets !== null && typeof (secrets as Record<string, unknown>).access_token === "string";
}
