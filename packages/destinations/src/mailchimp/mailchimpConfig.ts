import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { type ApiKeySecrets, parseApiKeySecrets } from "../providers/apiKeySecrets.js";

/** A Mailchimp connection's `metadata`: returned by the API as it is. */
export interface MailchimpMetadata {
  /**
   * The account's data center (`us21`), the first label of its API host `https://{dc}.api.mailchimp.com/3.0`.
   * Default: the API key's suffix (`…-us21`).
   */
  readonly data_center: string;
}

/** A Mailchimp connection's `secrets`: the Marketing API key, sealed, never returned. */
export type MailchimpSecrets = ApiKeySecrets;

/**
 * A data center is a DNS label of the API host, so only a short lower-case name and number are accepted (Mailchimp's
 * are `us1`…`us21` and the like): anything else could point the host elsewhere.
 */
export const dataCenterPattern = "^[a-z]{2,8}[0-9]{1,4}$";
const dataCenterRegExp = new RegExp(dataCenterPattern);

/** The data center a Mailchimp API key names after its last dash (`0123…-us21` → `us21`), if it names one. */
export function dataCenterOfKey(apiKey: string): string | undefined {
  const dash = apiKey.lastIndexOf("-");
  if (dash < 0) return undefined;
  const suffix = apiKey.slice(dash + 1);
  return dataCenterRegExp.test(suffix) ? suffix : undefined;
}

/**
 * Validates a Mailchimp connection's config, reporting every invalid field at once. `metadata.data_center` may be
 * left out when the key ends in `-<dc>`, and must agree with that suffix when both are given (a key only works in
 * its own data center). On update, a key not sent keeps its stored value, and the data center is derived again
 * from the key when the new metadata leaves it out.
 */
export function parseMailchimpConfig(
  input: ParseConfigInput<MailchimpMetadata, MailchimpSecrets>,
): ParseConfigResult<MailchimpMetadata, MailchimpSecrets> {
  const errors: ConfigError[] = [];
  const { metadata } = input;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  }
  const sent = metadata as Record<string, unknown>;
  for (const key of Object.keys(sent)) if (key !== "data_center") errors.push({ param: `metadata.${key}`, msg: "is not a known property" });
  const secrets = parseApiKeySecrets(input.secrets, input.previous?.secrets, errors);
  const dataCenter = parseDataCenter(sent.data_center, secrets?.api_key, errors);
  if (errors.length > 0 || secrets === undefined || dataCenter === undefined) return { ok: false, errors };
  return { ok: true, metadata: { data_center: dataCenter }, secrets };
}

function parseDataCenter(value: unknown, apiKey: string | undefined, errors: ConfigError[]): string | undefined {
  const fromKey = apiKey === undefined ? undefined : dataCenterOfKey(apiKey);
  if (value === undefined || value === null || value === "") {
    if (fromKey === undefined && apiKey !== undefined) {
      errors.push({ param: "metadata.data_center", msg: "is required when the API key does not end in -<data center> (such as -us21)" });
    }
    return fromKey;
  }
  if (typeof value !== "string" || !dataCenterRegExp.test(value)) {
    errors.push({ param: "metadata.data_center", msg: "must be a Mailchimp data center such as us21 (lower case)" });
    return undefined;
  }
  const dataCenter = value;
  if (fromKey !== undefined && fromKey !== dataCenter) {
    errors.push({ param: "metadata.data_center", msg: `differs from the API key's data center (${fromKey}); a key only works in its own` });
    return undefined;
  }
  return dataCenter;
}
