/**
 * How one provider's OAuth 2.0 authorization server is used (authorization code with PKCE and state). The URLs
 * are the provider's; an operator's settings (`ProviderSettings`) may replace them, as tests do with a local fake.
 */
export interface OAuthProvider {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly scopes: readonly string[];
  /** How scopes are joined in the authorize URL: " " by the standard, "," for Slack's `scope`. */
  readonly scopeSeparator?: " " | ",";
  /** The authorize URL's parameter that carries the scopes (Slack's bot scopes go in `scope`, user scopes in `user_scope`). */
  readonly scopeParam?: string;
  /** Further fixed authorize parameters (Discord's `permissions`). */
  readonly authorizeParams?: Readonly<Record<string, string>>;
  /** How the client authenticates at the token endpoint. */
  readonly clientAuth: "client_secret_post" | "client_secret_basic";
  /**
   * What a token answer says besides the standard fields: an error hidden in a 200 (Slack's `ok: false`), the
   * connection metadata it shows (Slack's team, Discord's guild) and secrets the plugin needs later (Salesforce's
   * `instance_url`). Absent: the standard fields only.
   */
  readGrant?(token: Readonly<Record<string, unknown>>): OAuthGrantDetails;
}

export interface OAuthGrantDetails {
  /** Set when the answer is an error despite its HTTP status. */
  readonly error?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly secrets?: Readonly<Record<string, string>>;
}

/**
 * The secrets of an OAuth connection (sealed at rest): the tokens, when the access token expires, and the
 * provider's extras from `readGrant`.
 */
export interface OAuthSecrets {
  readonly access_token: string;
  readonly refresh_token?: string;
  /** ISO 8601; absent when the provider's tokens do not expire. */
  readonly expires_at?: string;
  readonly token_type?: string;
  readonly scope?: string;
  readonly [extra: string]: string | undefined;
}

/** The access token of an OAuth connection's secrets, if they hold one. */
export function accessTokenOf(secrets: unknown): string | undefined {
  if (typeof secrets !== "object" || secrets === null) return undefined;
  const token = (secrets as Record<string, unknown>).access_token;
  return typeof token === "string" && token !== "" ? token : undefined;
}
