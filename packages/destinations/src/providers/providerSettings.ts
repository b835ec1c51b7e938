/**
 * What the operator configures for one provider: where its API is (a local fake in tests, a regional or sandbox
 * host in production) and its OAuth app. Every field is optional: the plugin's documented defaults apply.
 */
export interface ProviderSettings {
  /** Replaces the provider's API origin (and base path), e.g. `http://127.0.0.1:9000`. */
  readonly apiUrl?: string;
  readonly authorizeUrl?: string;
  readonly tokenUrl?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** A bot token the operator's app sends with (Discord's bot posts to the channels of the servers it was added to). */
  readonly botToken?: string;
}

/** Settings by integration type. */
export type ProviderSettingsByType = ReadonlyMap<string, ProviderSettings>;

export class ProviderSettingsError extends Error {
  override readonly name = "ProviderSettingsError";
}

const settingNames = {
  apiUrl: "API_URL",
  authorizeUrl: "AUTHORIZE_URL",
  tokenUrl: "TOKEN_URL",
  clientId: "CLIENT_ID",
  clientSecret: "CLIENT_SECRET",
  botToken: "BOT_TOKEN",
} as const satisfies Record<keyof ProviderSettings, string>;

const urlSettings: ReadonlySet<keyof ProviderSettings> = new Set(["apiUrl", "authorizeUrl", "tokenUrl"]);

/**
 * Reads `SWITCHYARD_<TYPE>_<SETTING>` for each of `types` (`SWITCHYARD_HUBSPOT_CLIENT_ID`,
 * `SWITCHYARD_SLACK_API_URL`...). URLs must be absolute http(s) URLs; a bad one is refused at start.
 */
export function parseProviderSettings(
  types: Iterable<string>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ProviderSettingsByType {
  const byType = new Map<string, ProviderSettings>();
  for (const type of types) {
    const settings: Partial<Record<keyof ProviderSettings, string>> = {};
    for (const [key, suffix] of Object.entries(settingNames) as [keyof ProviderSettings, string][]) {
      const name = `SWITCHYARD_${type.toUpperCase()}_${suffix}`;
      const value = env[name]?.trim();
      if (value === undefined || value === "") continue;
      if (urlSettings.has(key) && !/^https?:\/\//i.test(value)) throw new ProviderSettingsError(`${name}: must be an http or https URL`);
      if (urlSettings.has(key) && !URL.canParse(value)) throw new ProviderSettingsError(`${name}: is not a URL`);
      settings[key] = urlSettings.has(key) ? value.replace(/\/+$/, "") : value;
    }
    if (Object.keys(settings).length > 0) byType.set(type, Object.freeze(settings));
  }
  return byType;
}

/** The provider's API base: the operator's `apiUrl` if set, else `fallback` (the provider's documented one). */
export function apiBase(providers: ProviderSettingsByType | undefined, type: string, fallback: string): string {
  return providers?.get(type)?.apiUrl ?? fallback;
}
