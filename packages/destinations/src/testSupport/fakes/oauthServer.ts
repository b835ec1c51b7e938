import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";

/**
 * A fake OAuth 2.0 authorization server (RFC 6749 authorization code grant with PKCE, RFC 7636), a real HTTP
 * server on 127.0.0.1 for tests:
 *
 * - `GET /oauth/authorize` checks `response_type=code`, the client id, a `redirect_uri`, a `state` and an S256
 *   `code_challenge`, then "consents" at once: it answers 302 to `redirect_uri?code=…&state=…` (or
 *   `?error=access_denied&state=…` after `denyNext()`); a bad client id or missing redirect URI is a 400, not
 *   a redirect, as the standard wants.
 * - `POST /oauth/token` (form) checks the client's credentials as configured (`client_secret_post` or
 *   `client_secret_basic`; 401 `invalid_client` otherwise), and for `authorization_code` the code (issued here,
 *   unused, under 60 s old), its `redirect_uri` and the `code_verifier` against the challenge; for
 *   `refresh_token` a live refresh token, rotated on each use by default (the old one then answers
 *   `invalid_grant`). Errors are RFC 6749 § 5.2 JSON (`{"error": …, "error_description": …}`).
 * - `failNext("invalid_grant" | "server_error" | "invalid_client", times)` makes the next token requests fail so.
 *
 * Provider fakes check a bearer token with `isLiveAccessToken`; `grant()` mints a token pair without the browser
 * step. Every request is recorded in `requests`. Export: `startOAuthServer`, nothing else.
 */
export interface FakeOAuthServerOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** How the token endpoint expects the client's credentials. Default `client_secret_post`. */
  readonly clientAuth?: "client_secret_post" | "client_secret_basic";
  /** `expires_in` of access tokens; null: tokens that do not expire (no `expires_in`). Default 3600. */
  readonly expiresInSeconds?: number | null;
  /** A new refresh token on each refresh, the old one invalid. Default true. */
  readonly rotateRefreshTokens?: boolean;
  /** Fields added to every successful token answer (a provider's extras: `team`, `instance_url`...). */
  readonly extraTokenFields?: Readonly<Record<string, unknown>>;
  /** Wait this long before answering a token request (to make concurrent refreshes overlap). Default 0. */
  readonly tokenDelayMs?: number;
}

export type FakeTokenFailure = "invalid_grant" | "server_error" | "invalid_client";

export interface FakeOAuthServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly requests: ReceivedRequest[];
  /** The token requests received, as parsed forms (secrets included: for assertions only). */
  readonly tokenRequests: URLSearchParams[];
  /**
   * What a browser does with an authorize URL: sends it here and follows nothing; answers the `Location` the fake
   * redirected to (the callback URL with `code` and `state`, or `error`).
   */
  authorize(authorizeUrl: string): Promise<string>;
  /** The next authorization is denied by the user: `error=access_denied` is sent back with the state. */
  denyNext(): void;
  failNext(failure: FakeTokenFailure, times?: number): void;
  /** Mints a live token pair as if a user had authorized. */
  grant(): { access_token: string; refresh_token: string };
  /** Whether `token` is an access token issued here and not revoked or expired (by `expireAccessTokens`). */
  isLiveAccessToken(token: string | undefined): boolean;
  /** Every access token issued so far is refused from now on, as if expired (refresh tokens stay good). */
  expireAccessTokens(): void;
  /** Every refresh token is revoked, as a user uninstalling the app does. */
  revokeRefreshTokens(): void;
  /** How many refresh_token grants succeeded. */
  refreshes(): number;
  close(): Promise<void>;
}

interface IssuedCode {
  readonly redirectUri: string;
  readonly challenge: string;
  readonly issuedAt: number;
  used: boolean;
}

const codeLifetimeMs = 60_000;

/** What the fake knows: its client, the codes and tokens it issued, and what it was told to do next. */
interface FakeState {
  readonly options: FakeOAuthServerOptions;
  readonly client: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly clientAuth: "client_secret_post" | "client_secret_basic";
  };
  readonly codes: Map<string, IssuedCode>;
  readonly accessTokens: Set<string>;
  readonly refreshTokens: Set<string>;
  readonly failures: FakeTokenFailure[];
  readonly tokenRequests: URLSearchParams[];
  deny: boolean;
  refreshCount: number;
}

export async function startOAuthServer(options: FakeOAuthServerOptions = {}): Promise<FakeOAuthServer> {
  const state: FakeState = {
    options,
    client: {
      clientId: options.clientId ?? "fake-client-id",
      clientSecret: options.clientSecret ?? "fake-client-secret",
      clientAuth: options.clientAuth ?? "client_secret_post",
    },
    codes: new Map(),
    accessTokens: new Set(),
    refreshTokens: new Set(),
    failures: [],
    tokenRequests: [],
    deny: false,
    refreshCount: 0,
  };
  const receiver = await startReceiver((req, res, body) => {
    const url = new URL(req.url ?? "/", "http://fake");
    if (req.method === "GET" && url.pathname === "/oauth/authorize") {
      const denied = state.deny;
      state.deny = false;
      authorizeAnswer(res, url.searchParams, state.client.clientId, denied, state.codes);
    } else if (req.method === "POST" && url.pathname === "/oauth/token") {
      const form = new URLSearchParams(body.toString("utf8"));
      setTimeout(() => tokenEndpoint(state, req, res, form), options.tokenDelayMs ?? 0);
    } else {
      json(res, 404, { error: "not_found" });
    }
  });
  return {
    origin: receiver.origin,
    authorizeUrl: `${receiver.origin}/oauth/authorize`,
    tokenUrl: `${receiver.origin}/oauth/token`,
    clientId: state.client.clientId,
    clientSecret: state.client.clientSecret,
    requests: receiver.requests,
    tokenRequests: state.tokenRequests,
    authorize: followAuthorize,
    denyNext: () => {
      state.deny = true;
    },
    failNext: (failure, times = 1) => {
      for (let i = 0; i < times; i += 1) state.failures.push(failure);
    },
    grant: () => mint(state),
    isLiveAccessToken: (token) => token !== undefined && state.accessTokens.has(token),
    expireAccessTokens: () => state.accessTokens.clear(),
    revokeRefreshTokens: () => state.refreshTokens.clear(),
    refreshes: () => state.refreshCount,
    close: () => receiver.close(),
  };
}

async function followAuthorize(authorizeUrl: string): Promise<string> {
  const answer = await fetch(authorizeUrl, { redirect: "manual" });
  const location = answer.headers.get("location");
  if (answer.status !== 302 || location === null)
    throw new Error(`the fake authorize endpoint answered ${answer.status}: ${await answer.text()}`);
  return location;
}

function mint(state: FakeState): { access_token: string; refresh_token: string } {
  const tokens = { access_token: `at_${randomBytes(12).toString("hex")}`, refresh_token: `rt_${randomBytes(12).toString("hex")}` };
  state.accessTokens.add(tokens.access_token);
  state.refreshTokens.add(tokens.refresh_token);
  return tokens;
}

/** A successful token answer: a new access token, and a new refresh token unless `keptRefreshToken` stays. */
function tokenAnswer(state: FakeState, res: ServerResponse, keptRefreshToken: string | undefined): void {
  const { access_token, refresh_token } = mint(state);
  if (keptRefreshToken !== undefined) state.refreshTokens.delete(refresh_token);
  json(res, 200, {
    access_token,
    token_type: "bearer",
    ...(state.options.expiresInSeconds === null ? {} : { expires_in: state.options.expiresInSeconds ?? 3600 }),
    refresh_token: keptRefreshToken ?? refresh_token,
    scope: "read write",
    ...state.options.extraTokenFields,
  });
}

function tokenEndpoint(state: FakeState, req: IncomingMessage, res: ServerResponse, form: URLSearchParams): void {
  state.tokenRequests.push(form);
  const failure = state.failures.shift();
  if (failure === "server_error") json(res, 500, { error: "server_error", error_description: "the fake was told to fail" });
  else if (failure === "invalid_client" || !clientAuthenticates(req, form, state.client))
    json(res, 401, { error: "invalid_client", error_description: "client authentication failed" });
  else if (failure === "invalid_grant")
    json(res, 400, { error: "invalid_grant", error_description: "the fake was told to refuse the grant" });
  else if (form.get("grant_type") === "authorization_code") exchangeCode(res, form, state.codes, () => tokenAnswer(state, res, undefined));
  else if (form.get("grant_type") === "refresh_token") refreshGrant(state, res, form.get("refresh_token") ?? "");
  else json(res, 400, { error: "unsupported_grant_type", error_description: `grant_type ${form.get("grant_type") ?? "(none)"}` });
}

/** The refresh_token grant: a live refresh token, rotated unless told otherwise. */
function refreshGrant(state: FakeState, res: ServerResponse, refreshToken: string): void {
  if (!state.refreshTokens.has(refreshToken)) {
    json(res, 400, { error: "invalid_grant", error_description: "unknown or revoked refresh token" });
    return;
  }
  state.refreshCount += 1;
  if (state.options.rotateRefreshTokens ?? true) {
    state.refreshTokens.delete(refreshToken);
    tokenAnswer(state, res, undefined);
  } else {
    tokenAnswer(state, res, refreshToken);
  }
}

/** The authorize endpoint: a 400 for what must not be redirected (client, redirect URI), else a 302 with a code or an error. */
function authorizeAnswer(
  res: ServerResponse,
  query: URLSearchParams,
  clientId: string,
  denied: boolean,
  codes: Map<string, IssuedCode>,
): void {
  const redirectUri = query.get("redirect_uri");
  if (query.get("client_id") !== clientId || redirectUri === null || !URL.canParse(redirectUri)) {
    json(res, 400, { error: "invalid_request", error_description: "unknown client_id or missing redirect_uri" });
    return;
  }
  const back = new URL(redirectUri);
  const stateParam = query.get("state");
  if (stateParam !== null) back.searchParams.set("state", stateParam);
  const challenge = query.get("code_challenge");
  const problem =
    query.get("response_type") !== "code"
      ? "unsupported_response_type"
      : challenge === null || query.get("code_challenge_method") !== "S256" || stateParam === null
        ? "invalid_request"
        : denied
          ? "access_denied"
          : undefined;
  if (problem !== undefined || challenge === null) {
    back.searchParams.set("error", problem ?? "invalid_request");
    back.searchParams.set(
      "error_description",
      problem === "access_denied" ? "The user denied the request." : "PKCE S256 and state are required.",
    );
  } else {
    const code = `code_${randomBytes(12).toString("hex")}`;
    codes.set(code, { redirectUri, challenge, issuedAt: Date.now(), used: false });
    back.searchParams.set("code", code);
  }
  res.writeHead(302, { Location: back.href }).end();
}

/** The authorization_code grant: a live, unused code of this redirect URI whose challenge the verifier answers. */
function exchangeCode(res: ServerResponse, form: URLSearchParams, codes: Map<string, IssuedCode>, issue: () => void): void {
  const code = codes.get(form.get("code") ?? "");
  const verifier = form.get("code_verifier") ?? "";
  const refusal =
    code === undefined
      ? "unknown code"
      : code.used
        ? "the code was already used"
        : Date.now() - code.issuedAt > codeLifetimeMs
          ? "the code expired"
          : code.redirectUri !== form.get("redirect_uri")
            ? "redirect_uri differs from the authorization request's"
            : createHash("sha256").update(verifier, "ascii").digest("base64url") !== code.challenge
              ? "code_verifier does not match the code_challenge"
              : undefined;
  if (code !== undefined) code.used = true;
  if (refusal !== undefined) json(res, 400, { error: "invalid_grant", error_description: refusal });
  else issue();
}

function clientAuthenticates(
  req: IncomingMessage,
  form: URLSearchParams,
  client: { clientId: string; clientSecret: string; clientAuth: "client_secret_post" | "client_secret_basic" },
): boolean {
  if (client.clientAuth === "client_secret_post") {
    return (
      req.headers.authorization === undefined &&
      form.get("client_id") === client.clientId &&
      form.get("client_secret") === client.clientSecret
    );
  }
  const match = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
  if (match === null || form.has("client_secret")) return false;
  const [id = "", secret = ""] = Buffer.from(match[1] ?? "", "base64")
    .toString("utf8")
    .split(":");
  const decode = (value: string) => new URLSearchParams(`v=${value}`).get("v");
  return decode(id) === client.clientId && decode(secret) === client.clientSecret;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify(body));
}
