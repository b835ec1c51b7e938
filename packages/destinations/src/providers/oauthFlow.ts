import { createHash, randomBytes } from "node:crypto";
import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts } from "../destinationPlugin.js";
import { callProvider } from "./callProvider.js";
import type { OAuthProvider, OAuthSecrets } from "./oauthProvider.js";
import type { ProviderSettingsByType } from "./providerSettings.js";

// The authorization code flow (RFC 6749 § 4.1) with PKCE S256 (RFC 7636) and state, written here over
// `callProvider` rather than with oauth4webapi: the token endpoint is then reached like every other provider
// request, under the operator's address policy (the SSRF guard checks the token host's every address at
// connect time) and recorded redacted, which oauth4webapi's `fetch` would bypass; and the providers answer
// outside the standard in ways `OAuthProvider.readGrant` must read (Slack's errors inside a 200 with
// `ok: false`, HubSpot's `status` instead of `error`, tokens without `token_type`), which a strict client
// refuses before the plugin sees them. What the flow needs of the standard is small: random state and
// verifier, the S256 challenge, a form POST with the client's credentials, and reading the token answer.

/** The operator's OAuth app for one provider, and the endpoints it uses (the operator's settings over the plugin's). */
export interface OAuthClient {
  readonly type: string;
  readonly provider: OAuthProvider;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
}

/** The OAuth app of `type`, or undefined while the operator has not set both its client id and secret. */
export function oauthClientOf(
  type: string,
  provider: OAuthProvider,
  providers: ProviderSettingsByType | undefined,
): OAuthClient | undefined {
  const settings = providers?.get(type);
  if (settings?.clientId === undefined || settings.clientSecret === undefined) return undefined;
  return {
    type,
    provider,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    authorizeUrl: settings.authorizeUrl ?? provider.authorizeUrl,
    tokenUrl: settings.tokenUrl ?? provider.tokenUrl,
  };
}

/** 256 random bits, base64url: an OAuth `state` or a PKCE `code_verifier` (43 characters, within RFC 7636's 43–128). */
export function randomOAuthSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export function pkceChallenge(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/**
 * The URL that sends the user to the provider's consent screen: the provider's fixed parameters first, then
 * the flow's own (which they cannot replace), the scopes joined and named as the provider wants.
 */
export function authorizeUrlOf(client: OAuthClient, flow: { state: string; codeChallenge: string; redirectUri: string }): string {
  const url = new URL(client.authorizeUrl);
  for (const [name, value] of Object.entries(client.provider.authorizeParams ?? {})) url.searchParams.set(name, value);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", flow.redirectUri);
  if (client.provider.scopes.length > 0) {
    url.searchParams.set(client.provider.scopeParam ?? "scope", client.provider.scopes.join(client.provider.scopeSeparator ?? " "));
  }
  url.searchParams.set("state", flow.state);
  url.searchParams.set("code_challenge", flow.codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.href;
}

/** What is asked of the token endpoint. */
export type TokenGrant =
  | { readonly grantType: "authorization_code"; readonly code: string; readonly redirectUri: string; readonly codeVerifier: string }
  | { readonly grantType: "refresh_token"; readonly refreshToken: string };

/**
 * Why a token request gave no tokens: `unavailable` (no answer, a 429 or 5xx, an answer that is not a token
 * answer: worth trying again later), `reauthorize` (the grant is no longer good: `invalid_grant` and the
 * providers' words for a revoked or expired refresh token; only the user can fix it), `refused` (any other
 * refusal, such as `invalid_client`: the operator's app settings).
 */
export type TokenFailureKind = "unavailable" | "reauthorize" | "refused";

export type TokenAnswer =
  | {
      readonly ok: true;
      readonly secrets: OAuthSecrets;
      /** What `readGrant` found for the connection's metadata. */
      readonly metadata: Readonly<Record<string, unknown>>;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly kind: TokenFailureKind;
      /** The provider's error code, when it gave one. */
      readonly error: string | undefined;
      /** Names the provider's answer (its error code and description, cut short); never a credential. */
      readonly message: string;
      /** The exchange as an attempt's facts: the body left out (a token answer holds credentials), `auth_failed` for a refusal. */
      readonly facts: AttemptFacts;
    };

/** The providers' words for a refresh token (or code) that is no longer good: only a new authorization helps. */
const reauthorizeErrors = new Set([
  "invalid_grant",
  "invalid_refresh_token",
  "bad_refresh_token",
  "token_revoked",
  "token_expired",
  "refresh_token_expired",
  "account_inactive",
]);

/**
 * One request to the token endpoint with the client's credentials as the provider declares them
 * (`client_secret_basic`: RFC 6749 § 2.3.1's form-encoded id and secret in HTTP Basic; `client_secret_post`: in
 * the form). A success gives the connection's secrets: the tokens, `expires_at` from `expires_in`, and the
 * plugin's extras (`readGrant`); on refresh, what the provider does not send again (a refresh token that does
 * not rotate, an extra) is kept from `previous`.
 */
export async function requestTokens(
  client: OAuthClient,
  grant: TokenGrant,
  context: DeliveryContext,
  options: { readonly timeoutMs: number; readonly now?: () => Date; readonly previous?: OAuthSecrets },
): Promise<TokenAnswer> {
  const now = options.now ?? (() => new Date());
  const form: Record<string, string> =
    grant.grantType === "authorization_code"
      ? { grant_type: "authorization_code", code: grant.code, redirect_uri: grant.redirectUri, code_verifier: grant.codeVerifier }
      : { grant_type: "refresh_token", refresh_token: grant.refreshToken };
  const headers: Record<string, string> = {};
  if (client.provider.clientAuth === "client_secret_basic") {
    headers.Authorization = `Basic ${Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`).toString("base64")}`;
  } else {
    form.client_id = client.clientId;
    form.client_secret = client.clientSecret;
  }
  const { facts, json } = await callProvider(
    { method: "POST", url: client.tokenUrl, headers, form, timeoutMs: options.timeoutMs },
    context,
    now,
  );
  return readTokenAnswer(client, facts, json, now(), options.previous);
}

function readTokenAnswer(
  client: OAuthClient,
  facts: AttemptFacts,
  json: unknown,
  at: Date,
  previous: OAuthSecrets | undefined,
): TokenAnswer {
  const answer = isRecord(json) ? json : undefined;
  const status = facts.httpStatus;
  if (status === undefined)
    return failure(facts, "unavailable", undefined, `the token endpoint could not be reached: ${facts.message ?? facts.failure}`);
  if (status === 429 || status >= 500)
    return failure(facts, "unavailable", errorOf(answer), `the token endpoint answered ${status}${describe(answer)}`);
  if (status < 200 || status >= 300) {
    const error = errorOf(answer);
    return failure(facts, kindOf(error), error, `the token endpoint refused the grant (${status}${describe(answer)})`);
  }
  if (answer === undefined) return failure(facts, "unavailable", undefined, `the token endpoint answered ${status} without a JSON body`);
  const grant = client.provider.readGrant?.(answer) ?? {};
  if (grant.error !== undefined)
    return failure(facts, kindOf(grant.error), grant.error, `the token endpoint refused the grant: ${grant.error}`);
  const secrets = grantedSecrets(answer, grant.secrets, at, previous);
  if (secrets === undefined)
    return failure(facts, "unavailable", undefined, `the token endpoint answered ${status} without an access_token`);
  return { ok: true, secrets, metadata: grant.metadata ?? {}, durationMs: facts.durationMs };
}

/** The connection's secrets from a token answer; undefined when it holds no access token. */
function grantedSecrets(
  answer: Readonly<Record<string, unknown>>,
  extras: Readonly<Record<string, string>> | undefined,
  at: Date,
  previous: OAuthSecrets | undefined,
): OAuthSecrets | undefined {
  const accessToken = answer.access_token;
  if (typeof accessToken !== "string" || accessToken === "") return undefined;
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(previous ?? {})) if (typeof value === "string" && key !== "expires_at") secrets[key] = value;
  secrets.access_token = accessToken;
  for (const key of ["refresh_token", "token_type", "scope"] as const) {
    const value = answer[key];
    if (typeof value === "string" && value !== "") secrets[key] = value;
  }
  const expiresIn = Number(answer.expires_in);
  if (answer.expires_in !== undefined && answer.expires_in !== null && Number.isFinite(expiresIn) && expiresIn > 0) {
    secrets.expires_at = new Date(at.getTime() + expiresIn * 1000).toISOString();
  }
  Object.assign(secrets, extras);
  return secrets as OAuthSecrets;
}

function failure(facts: AttemptFacts, kind: TokenFailureKind, error: string | undefined, message: string): TokenAnswer {
  const { responseBody: _body, ...kept } = facts;
  const refused = kind !== "unavailable" && facts.httpStatus !== undefined;
  const notAnswer = kind === "unavailable" && facts.httpStatus !== undefined && facts.httpStatus >= 200 && facts.httpStatus < 300;
  return {
    ok: false,
    kind,
    error,
    message,
    facts: {
      ...kept,
      message,
      ...(refused ? { providerOutcome: "auth_failed" as const } : {}),
      ...(notAnswer ? { providerOutcome: "rejected_server_error" as const } : {}),
    },
  };
}

function kindOf(error: string | undefined): TokenFailureKind {
  return error !== undefined && reauthorizeErrors.has(error.toLowerCase()) ? "reauthorize" : "refused";
}

/** The error code of an answer: the standard `error`, or `status` as HubSpot names it. */
function errorOf(answer: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const error = answer?.error ?? answer?.status;
  return typeof error === "string" && error !== "" ? error.slice(0, 100) : undefined;
}

function describe(answer: Readonly<Record<string, unknown>> | undefined): string {
  const error = errorOf(answer);
  if (error === undefined) return "";
  const detail = answer?.error_description ?? answer?.message;
  return typeof detail === "string" && detail !== "" ? `: ${error}, ${detail.slice(0, 200)}` : `: ${error}`;
}

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 § 2.3.1 wants for HTTP Basic client credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
