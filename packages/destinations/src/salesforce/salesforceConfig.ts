import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { parseOAuthSecrets } from "../providers/oauthConnectionSecrets.js";
import type { OAuthSecrets } from "../providers/oauthProvider.js";
import { salesforceSecrets } from "./salesforceDescription.js";
import { isSalesforceId } from "./soql.js";

/** What the grant showed about the connection: the org and the user who authorized it (both optional). */
export interface SalesforceMetadata {
  readonly organization_id?: string;
  readonly user_id?: string;
}

const metadataKeys = ["organization_id", "user_id"] as const;

/**
 * The OAuth tokens and the org's `instance_url` (the API origin). `instance_url` is optional so that a connection
 * can run against the operator's `SWITCHYARD_SALESFORCE_API_URL` alone; without either, attempts fail.
 */
export function parseSalesforceConfig(
  input: ParseConfigInput<SalesforceMetadata, OAuthSecrets>,
): ParseConfigResult<SalesforceMetadata, OAuthSecrets> {
  const sent = input.metadata ?? {};
  if (!isPlainObject(sent)) return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  const errors: ConfigError[] = [];
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(sent)) {
    if (!(metadataKeys as readonly string[]).includes(key)) errors.push({ param: `metadata.${key}`, msg: "is not a known property" });
    else if (typeof value !== "string" || !isSalesforceId(value))
      errors.push({ param: `metadata.${key}`, msg: "must be a Salesforce id (15 or 18 letters and digits)" });
    else metadata[key] = value;
  }
  const secrets = parseOAuthSecrets(input.secrets, input.previous?.secrets, salesforceSecrets);
  if (!secrets.ok) return { ok: false, errors: [...errors, ...secrets.errors] };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, metadata, secrets: secrets.secrets };
}
