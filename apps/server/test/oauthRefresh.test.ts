import { createEventsBulk, createRule, getConnection, reauthorizeConnection } from "@switchyard/client";
import type { ClaimedDelivery } from "@switchyard/db";
import { createOAuthTokens } from "@switchyard/delivery";
import { type AttemptFacts, type DestinationPlugin, destinations, parseAddressPolicy } from "@switchyard/destinations";
import { type FakeOAuthServer, startOAuthServer } from "@switchyard/destinations/fakes";
import { secretContext } from "@switchyard/secret-box";
import { waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import {
  completeCallback,
  connectThroughOAuth,
  oauthTestSettings,
  oauthTestType,
  registerOAuthTestPlugins,
  startTestProviderApi,
} from "./support/oauthTestPlugin.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { attemptsOf, emitEvent, eventDetail } from "./support/webhookRoutes.js";

// The worker keeps OAuth tokens fresh: before an attempt when the access token is about to expire, and once after a
// 401. The real server and worker, a real database, the fake authorization server and a fake provider API that
// accepts only the fake's live access tokens.

let server: TestServer;
let tenant: Tenant;
let fake: FakeOAuthServer;
let api: Awaited<ReturnType<typeof startTestProviderApi>>;
let providers: ReturnType<typeof oauthTestSettings>;

registerOAuthTestPlugins();

useTestServer({ server: false }, async (file) => {
  // Token answers take 100 ms, so that refreshes running at once overlap.
  fake = await startOAuthServer({ clientAuth: "client_secret_basic", tokenDelayMs: 100 });
  api = await startTestProviderApi(fake);
  file.closers.push(fake.close, api.close);
  providers = oauthTestSettings(fake, api.origin);
  server = await file.startServer({ providers, worker: { providers } });
  tenant = await createTenant(server.db, server.secretBox, "Refresh");
});

type Secrets = Record<string, string>;

/** A connection made through the OAuth flow, and a rule sending `event` to it. */
async function oauthRoute(event: string): Promise<{ connectionId: string; ruleId: string }> {
  const { connection } = await connectThroughOAuth(server.client, tenant, fake, event);
  const rule = await createRule({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: { connection: connection.id, event, metadata: { action: "send_message" } },
  });
  if (rule.data === undefined) throw new Error(`rule: ${JSON.stringify(rule.error)}`);
  return { connectionId: connection.id, ruleId: rule.data.rule.id };
}

async function stored(id: string): Promise<{ ciphertext: string; secrets: Secrets }> {
  const row = await server.db.selectFrom("connections").select("secrets_ciphertext").where("id", "=", id).executeTakeFirstOrThrow();
  return {
    ciphertext: row.secrets_ciphertext,
    secrets: JSON.parse(server.secretBox.open(row.secrets_ciphertext, secretContext.connection(id))),
  };
}

/** Changes the stored secrets as time would (an access token nearer its expiry). */
async function setStored(id: string, change: (secrets: Secrets) => Secrets): Promise<Secrets> {
  const secrets = change((await stored(id)).secrets);
  const sealed = server.secretBox.seal(JSON.stringify(secrets), secretContext.connection(id));
  await server.db.updateTable("connections").set({ secrets_ciphertext: sealed }).where("id", "=", id).execute();
  return secrets;
}

const inOneMinute = (secrets: Secrets) => ({ ...secrets, expires_at: new Date(Date.now() + 60_000).toISOString() });

async function settled(eventId: string) {
  return waitFor(() => eventDetail(server, tenant, eventId), {
    what: `event ${eventId} to settle`,
    until: (e) => e.status === "completed" || e.status === "failed",
  });
}

describe("token refresh in the worker", () => {
  it("when the access token expires within the margin, then it is refreshed before the attempt, and the rotated tokens are stored", async () => {
    const { connectionId, ruleId } = await oauthRoute("refresh.before");
    const before = await setStored(connectionId, inOneMinute);
    const refreshes = fake.refreshes();
    const event = await emitEvent(server, tenant, { event: "refresh.before" });
    expect((await settled(event.id)).status).toBe("completed");
    expect(fake.refreshes()).toBe(refreshes + 1);
    const after = (await stored(connectionId)).secrets;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(Date.parse(after.expires_at ?? "")).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(api.tokens().at(-1)).toBe(after.access_token);
    expect(api.tokens()).not.toContain(before.access_token);
    const attempts = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempts.map((a) => [a.outcome_code, a.http_status])).toEqual([["delivered", 200]]);
    // The attempt's record never shows a token.
    expect(JSON.stringify(attempts)).not.toContain(after.access_token);
  });

  it("when the refresh fails for now but the token has not run out, then the attempt goes with the token it has", async () => {
    const { connectionId } = await oauthRoute("refresh.later");
    const before = await setStored(connectionId, inOneMinute);
    const refreshes = fake.refreshes();
    fake.failNext("server_error");
    const event = await emitEvent(server, tenant, { event: "refresh.later" });
    expect((await settled(event.id)).status).toBe("completed");
    expect(fake.refreshes()).toBe(refreshes);
    expect(api.tokens().at(-1)).toBe(before.access_token);
    expect((await stored(connectionId)).secrets.access_token).toBe(before.access_token);
  });

  it("when the provider answers 401, then the token is refreshed once and the request sent again, in one attempt", async () => {
    const { connectionId, ruleId } = await oauthRoute("refresh.on401");
    const before = (await stored(connectionId)).secrets;
    fake.expireAccessTokens();
    const refreshes = fake.refreshes();
    const sent = api.requests.length;
    const event = await emitEvent(server, tenant, { event: "refresh.on401" });
    expect((await settled(event.id)).status).toBe("completed");
    expect(fake.refreshes()).toBe(refreshes + 1);
    const after = (await stored(connectionId)).secrets;
    expect(api.tokens().slice(sent)).toEqual([before.access_token, after.access_token]);
    const attempts = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome_code: "delivered", http_status: 200 });
    expect(attempts[0]?.error).toBe("the access token was refused, refreshed, and the request sent again");
  });

  it("when many attempts find the token expiring at once, then this process refreshes it once", async () => {
    const { connectionId } = await oauthRoute("refresh.many");
    await setStored(connectionId, inOneMinute);
    const refreshes = fake.refreshes();
    const tokenRequests = fake.tokenRequests.length;
    const { data } = await createEventsBulk({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": tenant.publishableKey },
      body: Array.from({ length: 6 }, () => ({ event: "refresh.many", payload: {} })),
    });
    const ids = (data?.records ?? []).map((r) => (r.type === "event" ? r.id : ""));
    expect(ids).toHaveLength(6);
    for (const id of ids) expect((await settled(id)).status).toBe("completed");
    expect(fake.refreshes()).toBe(refreshes + 1);
    expect(fake.tokenRequests.length).toBe(tokenRequests + 1);
  });

  it("when two workers refresh the same connection at once, then the one the provider refused takes the winner's tokens", async () => {
    const { connectionId } = await oauthRoute("refresh.race");
    await setStored(connectionId, inOneMinute);
    const { ciphertext, secrets } = await stored(connectionId);
    const plugin = destinations.get(oauthTestType) as DestinationPlugin;
    const context = { addressPolicy: parseAddressPolicy("127.0.0.1/32"), providers };
    // Two processes' worth of refreshers: neither knows of the other's refresh but through the database.
    const workers = [1, 2].map(() => createOAuthTokens({ db: server.db, secretBox: server.secretBox, context }));
    const delivery = { connection_id: connectionId, integration_type: oauthTestType, secrets_ciphertext: ciphertext } as ClaimedDelivery;
    const used: string[] = [];
    const send = async (withSecrets: unknown): Promise<AttemptFacts> => {
      const token = (withSecrets as Secrets).access_token ?? "";
      used.push(token);
      return { httpStatus: fake.isLiveAccessToken(token) ? 200 : 401, durationMs: 1 };
    };
    const tokenRequests = fake.tokenRequests.length;
    const facts = await Promise.all(workers.map((w) => w.attempt(delivery, plugin, secrets, send, 5_000)));
    expect(facts.map((f) => f.httpStatus)).toEqual([200, 200]);
    // Both asked, with the same refresh token: the provider rotated it for one and refused it to the other.
    expect(fake.tokenRequests.slice(tokenRequests).map((f) => f.get("refresh_token"))).toEqual([
      secrets.refresh_token,
      secrets.refresh_token,
    ]);
    const winner = (await stored(connectionId)).secrets;
    expect(used).toEqual([winner.access_token, winner.access_token]);
    expect(fake.isLiveAccessToken(winner.access_token)).toBe(true);
    const connection = await getConnection({ client: server.client, headers: await bearer(tenant.machine), path: { id: connectionId } });
    expect(connection.data?.active).toBe(true);
  });

  it("when two workers both get new tokens (no rotation), then one stores them by compare-and-set and the other uses those", async () => {
    const lenient = await startOAuthServer({ clientAuth: "client_secret_basic", rotateRefreshTokens: false, tokenDelayMs: 100 });
    try {
      const { connectionId } = await oauthRoute("refresh.cas");
      const granted = lenient.grant();
      await setStored(connectionId, (secrets) => inOneMinute({ ...secrets, ...granted }));
      const { ciphertext, secrets } = await stored(connectionId);
      const plugin = destinations.get(oauthTestType) as DestinationPlugin;
      const context = { addressPolicy: parseAddressPolicy("127.0.0.1/32"), providers: oauthTestSettings(lenient, api.origin) };
      const workers = [1, 2].map(() => createOAuthTokens({ db: server.db, secretBox: server.secretBox, context }));
      const delivery = { connection_id: connectionId, integration_type: oauthTestType, secrets_ciphertext: ciphertext } as ClaimedDelivery;
      const used: string[] = [];
      const send = async (withSecrets: unknown): Promise<AttemptFacts> => {
        used.push((withSecrets as Secrets).access_token ?? "");
        return { httpStatus: 200, durationMs: 1 };
      };
      await Promise.all(workers.map((w) => w.attempt(delivery, plugin, secrets, send, 5_000)));
      expect(lenient.refreshes()).toBe(2);
      const kept = (await stored(connectionId)).secrets;
      expect(used).toEqual([kept.access_token, kept.access_token]);
      expect(kept.access_token).not.toBe(granted.access_token);
      expect(kept.refresh_token).toBe(granted.refresh_token);
    } finally {
      await lenient.close();
    }
  });

  it("when the refresh token is refused, then the attempt is auth_failed, the connection is deactivated for re-authorization, and re-authorizing it restores it", async () => {
    const { connectionId, ruleId } = await oauthRoute("refresh.revoked");
    const revoked = (await stored(connectionId)).secrets;
    fake.revokeRefreshTokens();
    fake.expireAccessTokens();
    const event = await emitEvent(server, tenant, { event: "refresh.revoked" });
    expect((await settled(event.id)).status).toBe("failed");
    const attempts = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome_code: "auth_failed", http_status: 400 });
    expect(attempts[0]?.error).toContain("invalid_grant");
    // The record is the token endpoint's refusal, its credentials redacted and its body left out.
    expect(attempts[0]?.request).toMatchObject({ method: "POST", url: fake.tokenUrl, headers: { Authorization: "[redacted]" } });
    const recorded = JSON.stringify(attempts);
    for (const secret of [fake.clientSecret, revoked.refresh_token ?? "", revoked.access_token ?? ""])
      expect(recorded).not.toContain(secret);
    const headers = await bearer(tenant.machine);
    const inactive = await getConnection({ client: server.client, headers, path: { id: connectionId } });
    expect(inactive.data).toMatchObject({ active: false, inactive_reason: "oauth_reauthorization_required" });
    expect(inactive.data?.inactive_detail).toContain(`re-authorize the connection with POST /api/v1/connections/${connectionId}/oauth`);

    const meanwhile = await emitEvent(server, tenant, { event: "refresh.revoked" });
    expect((await settled(meanwhile.id)).status).toBe("failed");
    expect(await attemptsOf(server, tenant, meanwhile.id, ruleId)).toHaveLength(0);

    const started = await reauthorizeConnection({ client: server.client, headers, path: { id: connectionId } });
    await completeCallback(server.client, await fake.authorize(started.data?.authorize_url ?? ""));
    const after = await emitEvent(server, tenant, { event: "refresh.revoked" });
    expect((await settled(after.id)).status).toBe("completed");
  });
});
