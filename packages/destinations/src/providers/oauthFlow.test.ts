import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import { type FakeOAuthServer, startOAuthServer } from "../testSupport/fakes/oauthServer.js";
import { loopbackPolicy } from "../testSupport/pluginKit.js";
import { authorizeUrlOf, type OAuthClient, oauthClientOf, pkceChallenge, randomOAuthSecret, requestTokens } from "./oauthFlow.js";
import type { OAuthProvider } from "./oauthProvider.js";

const context = { addressPolicy: loopbackPolicy };
const redirectUri = "https://switchyard.example/api/v1/oauth/callback";

function clientOf(fake: FakeOAuthServer, provider: Partial<OAuthProvider> = {}): OAuthClient {
  const oauth: OAuthProvider = {
    authorizeUrl: "https://p.example/a",
    tokenUrl: "https://p.example/t",
    scopes: ["a", "b"],
    clientAuth: "client_secret_post",
    ...provider,
  };
  const client = oauthClientOf(
    "test",
    oauth,
    new Map([
      ["test", { clientId: fake.clientId, clientSecret: fake.clientSecret, authorizeUrl: fake.authorizeUrl, tokenUrl: fake.tokenUrl }],
    ]),
  );
  if (client === undefined) throw new Error("no client");
  return client;
}

/** Authorizes at the fake and answers the code with the verifier it was made for. */
async function codeFor(fake: FakeOAuthServer, client: OAuthClient): Promise<{ code: string; verifier: string }> {
  const verifier = randomOAuthSecret();
  const location = await fake.authorize(authorizeUrlOf(client, { state: "s1", codeChallenge: pkceChallenge(verifier), redirectUri }));
  return { code: new URL(location).searchParams.get("code") ?? "", verifier };
}

describe("the OAuth flow against the fake authorization server", () => {
  let post: FakeOAuthServer;
  let basic: FakeOAuthServer;
  beforeAll(async () => {
    post = await startOAuthServer({ extraTokenFields: { team: { id: "T1" } } });
    basic = await startOAuthServer({ clientAuth: "client_secret_basic", clientId: "id with:colon", clientSecret: "s&cret=" });
  });
  afterAll(async () => {
    await post.close();
    await basic.close();
  });

  it("when the operator has not set both client id and secret, then there is no client", () => {
    const oauth: OAuthProvider = {
      authorizeUrl: "https://p.example/a",
      tokenUrl: "https://p.example/t",
      scopes: [],
      clientAuth: "client_secret_post",
    };
    expect(oauthClientOf("test", oauth, new Map([["test", { clientId: "x" }]]))).toBeUndefined();
    expect(oauthClientOf("test", oauth, undefined)).toBeUndefined();
  });

  it("when the authorize URL is built, then scopes use the provider's parameter and separator, and fixed parameters cannot replace the flow's", () => {
    const client = clientOf(post, {
      scopeParam: "user_scope",
      scopeSeparator: ",",
      authorizeParams: { state: "evil", permissions: "2048" },
    });
    const url = new URL(authorizeUrlOf(client, { state: "s1", codeChallenge: "c1", redirectUri }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      state: "s1",
      permissions: "2048",
      response_type: "code",
      client_id: post.clientId,
      redirect_uri: redirectUri,
      user_scope: "a,b",
      code_challenge: "c1",
      code_challenge_method: "S256",
    });
  });

  it("when a code is exchanged with client_secret_post, then the tokens come back with expires_at, and readGrant's extras", async () => {
    const client = clientOf(post, {
      readGrant: (token) => ({ metadata: { team: (token.team as { id: string }).id }, secrets: { bot_id: "B1" } }),
    });
    const { code, verifier } = await codeFor(post, client);
    const at = new Date("2026-12-01T10:00:00.000Z");
    const answer = await requestTokens(client, { grantType: "authorization_code", code, redirectUri, codeVerifier: verifier }, context, {
      timeoutMs: 2_000,
      now: () => at,
    });
    expect(answer).toMatchObject({ ok: true, metadata: { team: "T1" } });
    if (!answer.ok) return;
    expect(answer.secrets).toMatchObject({
      token_type: "bearer",
      scope: "read write",
      bot_id: "B1",
      expires_at: "2026-12-01T11:00:00.000Z",
    });
    expect(post.isLiveAccessToken(answer.secrets.access_token)).toBe(true);
    expect(post.tokenRequests.at(-1)?.get("client_secret")).toBe(post.clientSecret);
  });

  it("when a code is exchanged with client_secret_basic, then the form-encoded credentials authenticate", async () => {
    const client = clientOf(basic, { clientAuth: "client_secret_basic" });
    const { code, verifier } = await codeFor(basic, client);
    const answer = await requestTokens(client, { grantType: "authorization_code", code, redirectUri, codeVerifier: verifier }, context, {
      timeoutMs: 2_000,
    });
    expect(answer.ok).toBe(true);
    const sent = basic.requests.at(-1);
    expect(sent?.headers.authorization).toBe(`Basic ${Buffer.from("id+with%3Acolon:s%26cret%3D").toString("base64")}`);
    expect(basic.tokenRequests.at(-1)?.has("client_secret")).toBe(false);
  });

  it("when the verifier is not the challenge's, or the code is used twice, then the grant is refused as reauthorize (invalid_grant)", async () => {
    const client = clientOf(post);
    const { code, verifier } = await codeFor(post, client);
    const wrong = await requestTokens(
      client,
      { grantType: "authorization_code", code, redirectUri, codeVerifier: `${verifier}x` },
      context,
      { timeoutMs: 2_000 },
    );
    expect(wrong).toMatchObject({ ok: false, kind: "reauthorize", error: "invalid_grant" });
    if (wrong.ok) return;
    expect(wrong.message).toContain("code_verifier does not match the code_challenge");
    expect(wrong.facts).toMatchObject({ httpStatus: 400, providerOutcome: "auth_failed" });
    expect(wrong.facts.responseBody).toBeUndefined();
    const reused = await requestTokens(client, { grantType: "authorization_code", code, redirectUri, codeVerifier: verifier }, context, {
      timeoutMs: 2_000,
    });
    expect(reused).toMatchObject({ ok: false, kind: "reauthorize" });
  });

  it("when a refresh token is used, then it is rotated, the old one refused, and what is not sent again is kept", async () => {
    const client = clientOf(post);
    const first = post.grant();
    const previous = { ...first, instance_url: "https://eu.example", expires_at: "2020-01-01T00:00:00.000Z" };
    const answer = await requestTokens(client, { grantType: "refresh_token", refreshToken: first.refresh_token }, context, {
      timeoutMs: 2_000,
      previous,
    });
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    expect(answer.secrets.refresh_token).not.toBe(first.refresh_token);
    expect(answer.secrets.instance_url).toBe("https://eu.example");
    expect(Date.parse(answer.secrets.expires_at ?? "")).toBeGreaterThan(Date.now());
    const again = await requestTokens(client, { grantType: "refresh_token", refreshToken: first.refresh_token }, context, {
      timeoutMs: 2_000,
    });
    expect(again).toMatchObject({ ok: false, kind: "reauthorize", error: "invalid_grant" });
  });

  it("when the token endpoint fails, then a 500 is unavailable (retried) and invalid_client is refused, never reauthorize", async () => {
    const client = clientOf(post);
    const { refresh_token } = post.grant();
    post.failNext("server_error");
    const failed = await requestTokens(client, { grantType: "refresh_token", refreshToken: refresh_token }, context, { timeoutMs: 2_000 });
    expect(failed).toMatchObject({ ok: false, kind: "unavailable", facts: { httpStatus: 500 } });
    if (!failed.ok) expect(failed.facts.providerOutcome).toBeUndefined();
    post.failNext("invalid_client");
    const refused = await requestTokens(client, { grantType: "refresh_token", refreshToken: refresh_token }, context, { timeoutMs: 2_000 });
    expect(refused).toMatchObject({
      ok: false,
      kind: "refused",
      error: "invalid_client",
      facts: { httpStatus: 401, providerOutcome: "auth_failed" },
    });
  });

  it("when readGrant finds an error inside a 200, then the answer is a refusal of that kind", async () => {
    const client = clientOf(post, { readGrant: () => ({ error: "invalid_refresh_token" }) });
    const { refresh_token } = post.grant();
    const answer = await requestTokens(client, { grantType: "refresh_token", refreshToken: refresh_token }, context, { timeoutMs: 2_000 });
    expect(answer).toMatchObject({
      ok: false,
      kind: "reauthorize",
      error: "invalid_refresh_token",
      facts: { httpStatus: 200, providerOutcome: "auth_failed" },
    });
  });

  it("when the token endpoint is a private address the policy refuses, then nothing is sent", async () => {
    const client = clientOf(post);
    const answer = await requestTokens(
      client,
      { grantType: "refresh_token", refreshToken: "rt" },
      { addressPolicy: parseAddressPolicy("") },
      { timeoutMs: 2_000 },
    );
    expect(answer).toMatchObject({ ok: false, kind: "unavailable", facts: { failure: "refused_address" } });
    expect(post.tokenRequests.some((form) => form.get("refresh_token") === "rt")).toBe(false);
  });
});
