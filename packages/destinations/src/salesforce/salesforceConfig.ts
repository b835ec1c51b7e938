import type { ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { parseOAuthConnectionConfig } from "../providers/oauthConnectionConfig.js";
import type { OAuthSecrets } from "../providers/oauthProvider.js";
import { salesforceSecretExtras } from "./salesforceDescription.js";
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
  return parseOAuthConnectionConfig(input, {
    extraSecrets: salesforceSecretExtras,
    parseMetadata(metadata, fail) {
      const parsed: Record<string, string> = {};
      for (const [key, value] of Object.entries(metadata)) {
        if (!(metadataKeys as readonly string[]).includes(key)) fail(`metadata.${key}`, "is not a known property");
        else if (typeof value !== "string" || !isSalesforceId(value))
          fail(`metadata.${key}`, "must be a Salesforce id (15 or 18 letters and digits)");
        else parsed[key] = value;
      }
      return parsed as SalesforceMetadata;
    },
  });
}
