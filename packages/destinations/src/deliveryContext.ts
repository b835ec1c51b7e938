import { lookup } from "node:dns/promises";
import type { AddressPolicy } from "./addressPolicy.js";
import type { ProviderSettingsByType } from "./providers/providerSettings.js";

/** One address a hostname resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Resolves a hostname to every address it has. Rejections are reported as a `network` failure with their
 * message; an empty answer counts as "did not resolve".
 */
export type HostLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** What the worker lends a destination for one attempt, besides the request itself. */
export interface DeliveryContext {
  /** Which addresses may be contacted; checked on every resolved address at connect time. */
  readonly addressPolicy: AddressPolicy;
  /** How hostnames are resolved. Default: `systemLookup` (the operating system's resolver). Tests inject a fixed table. */
  readonly lookup?: HostLookup;
  /** The operator's settings per provider (API origin, OAuth app, bot token). */
  readonly providers?: ProviderSettingsByType;
}

/** The operating system's resolver (`getaddrinfo`, as `dns.lookup` uses it), every address in its order. */
export const systemLookup: HostLookup = async (hostname) => {
  const answers = await lookup(hostname, { all: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};
