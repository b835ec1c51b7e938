import type { MappingSchema } from "@switchyard/mapping";
import type { IntegrationActionInput, IntegrationDescription } from "../integrationDescription.js";
import { contactMapping } from "../providers/contactMapping.js";
import { type OAuthSecretExtra, type OAuthSecretsOptions, oauthSecretsDescription } from "../providers/oauthConnectionSecrets.js";
import type { OAuthGrantDetails, OAuthProvider } from "../providers/oauthProvider.js";

/** The REST API version every request uses. */
export const salesforceApiVersion = "v60.0";

/**
 * `instance_url`: the org's API origin, from the token answer. https, or http on a loopback host (a local fake).
 * Stored as an origin; `SWITCHYARD_SALESFORCE_API_URL` replaces it when set.
 */
export const instanceUrlSecret: OAuthSecretExtra = {
  description: "The org's API origin from the token answer, e.g. https://example.my.salesforce.com.",
  problem(value) {
    if (!URL.canParse(value)) return "must be a URL";
    const url = new URL(value);
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) return "must be an https URL";
    if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "" || url.pathname !== "/") {
      return "must be an origin (no path, query, user or fragment)";
    }
    return undefined;
  },
  normalize: (value) => new URL(value).origin,
};

/** The connection's secrets: the OAuth tokens, refreshed by the worker, and the org's `instance_url`. */
export const salesforceSecrets: OAuthSecretsOptions = { refreshable: true, extras: { instance_url: instanceUrlSecret } };

export const salesforceOAuth: OAuthProvider = {
  authorizeUrl: "https://login.salesforce.com/services/oauth2/authorize",
  tokenUrl: "https://login.salesforce.com/services/oauth2/token",
  scopes: ["api", "refresh_token"],
  scopeSeparator: " ",
  clientAuth: "client_secret_post",
  readGrant: readSalesforceGrant,
};

/**
 * Salesforce's token answer names the org's API origin (`instance_url`, kept in the secrets) and the identity URL
 * `id` (`https://login.salesforce.com/id/<organization id>/<user id>`), whose ids the connection's metadata shows.
 */
export function readSalesforceGrant(token: Readonly<Record<string, unknown>>): OAuthGrantDetails {
  const instanceUrl = typeof token.instance_url === "string" ? token.instance_url : undefined;
  const identity = typeof token.id === "string" ? /\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?$/.exec(token.id) : null;
  return {
    ...(identity === null ? {} : { metadata: { organization_id: identity[1], user_id: identity[2] } }),
    ...(instanceUrl === undefined ? {} : { secrets: { instance_url: instanceUrl } }),
  };
}

const campaignInput: IntegrationActionInput = { field: "id", key: "campaign", kind: "simple", label: "Campaign", required: true };

/** Meshes' advanced input: the Contact field (`id`) and the value (`value`), a template rendered against the payload. */
const fieldInputs: readonly IntegrationActionInput[] = [
  { field: "id", key: "field", kind: "advanced", label: "Field", required: true, description: "The Contact field's API name." },
  {
    field: "value",
    key: "value",
    kind: "advanced",
    label: "Value",
    required: true,
    template: true,
    description: "The value to set: text, or a {{path}} template rendered against the event's payload.",
  },
];

const salesforceId = { type: "string", pattern: "^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$" };

export const salesforceDescription: IntegrationDescription = Object.freeze<IntegrationDescription>({
  type: "salesforce",
  name: "Salesforce",
  description:
    "Finds the Contact by Email and updates it with the mapped fields (or creates it), then adds it to a campaign, removes it from one, or sets one field.",
  authentication: { type: "oauth", oauth: { version: 2 } },
  actions: [
    {
      key: "add_to_campaign",
      label: "Add to campaign",
      noun: "Campaign",
      description: "Upsert the Contact, then make it a member of the campaign (already a member: nothing to do).",
      inputs: [campaignInput],
    },
    {
      key: "remove_from_campaign",
      label: "Remove from campaign",
      noun: "Campaign",
      description: "Upsert the Contact, then delete its campaign membership (none: nothing to do).",
      inputs: [campaignInput],
    },
    {
      key: "update_property",
      label: "Update field",
      noun: "Field",
      description: "Upsert the Contact with the mapped fields and this field set, in the same request.",
      inputs: fieldInputs,
    },
  ],
  // The org's Contact fields come from loadFields (describe); these are the standard ones every org has.
  fields: [
    { key: "Email", label: "Email", type: "string", constraints: { format: "email", required: true, max_length: 80 } },
    { key: "FirstName", label: "First Name", type: "string", constraints: { max_length: 40 } },
    { key: "LastName", label: "Last Name", type: "string", constraints: { required: true, max_length: 80 } },
    { key: "Phone", label: "Business Phone", type: "string", constraints: { format: "phone", max_length: 40 } },
  ],
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {
      organization_id: { ...salesforceId, description: "The org the grant is for (from the token answer's identity URL)." },
      user_id: { ...salesforceId, description: "The user who authorized the connection." },
    },
  },
  ...oauthSecretsDescription(salesforceSecrets),
});

/** Meshes' payload fields onto the standard Contact fields; all but Email are skipped when absent. */
export const salesforceDefaultMapping: MappingSchema = contactMapping(
  "Email",
  { first_name: "FirstName", last_name: "LastName", phone: "Phone" },
  "Salesforce Contact",
);
