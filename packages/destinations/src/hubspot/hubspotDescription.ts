import type { MappingSchema } from "@switchyard/mapping";
import type { IntegrationActionInput, IntegrationDescription } from "../integrationDescription.js";
import { contactMapping } from "../providers/contactMapping.js";
import { type OAuthSecretsOptions, oauthSecretsDescription } from "../providers/oauthConnectionSecrets.js";
import type { OAuthProvider } from "../providers/oauthProvider.js";

/** HubSpot's documented API origin; `SWITCHYARD_HUBSPOT_API_URL` replaces it. */
export const hubspotApiBase = "https://api.hubapi.com";

/** What the OAuth app asks for: contacts (upsert), lists (memberships, the list picker) and the contact property catalog. */
export const hubspotScopes = [
  "crm.objects.contacts.read",
  "crm.objects.contacts.write",
  "crm.lists.read",
  "crm.lists.write",
  "crm.schemas.contacts.read",
] as const;

export const hubspotOAuth: OAuthProvider = {
  authorizeUrl: "https://app.hubspot.com/oauth/authorize",
  tokenUrl: "https://api.hubapi.com/oauth/v1/token",
  scopes: hubspotScopes,
  scopeSeparator: " ",
  clientAuth: "client_secret_post",
};

/** The connection's secrets: the OAuth tokens, refreshed by the worker; nothing else. */
export const hubspotSecrets: OAuthSecretsOptions = { refreshable: true };

const listInput: IntegrationActionInput = {
  field: "id",
  key: "list",
  kind: "simple",
  label: "List",
  required: true,
  description: "The list's ILS id (v3 Lists API). Only MANUAL and SNAPSHOT lists take memberships from the API.",
};

/**
 * `update_property` is Meshes' advanced input: the property (`id`) and the value to set (`value`). The value is a
 * template rendered against the event's payload, so `{{plan.tier}}` sets the property from the event; a value
 * without `{{ }}` is set as written.
 */
const propertyInputs: readonly IntegrationActionInput[] = [
  {
    field: "id",
    key: "property",
    kind: "advanced",
    label: "Property",
    required: true,
    description: "The contact property's internal name.",
  },
  {
    field: "value",
    key: "value",
    kind: "advanced",
    label: "Value",
    required: true,
    template: true,
    description: "The value to set: text, or a {{path}} template rendered against the event's payload. Empty clears the property.",
  },
];

export const hubspotDescription: IntegrationDescription = Object.freeze<IntegrationDescription>({
  type: "hubspot",
  name: "HubSpot",
  description:
    "Upserts the contact by email with the mapped properties (HubSpot property name to value), then adds it to a list, removes it from one, or sets one property.",
  authentication: { type: "oauth", oauth: { version: 2 } },
  actions: [
    {
      key: "add_to_list",
      label: "Add to list",
      noun: "List",
      description: "Upsert the contact, then add it to a static list.",
      inputs: [listInput],
    },
    {
      key: "remove_from_list",
      label: "Remove from list",
      noun: "List",
      description: "Upsert the contact, then remove it from a static list (not a member: nothing to do).",
      inputs: [listInput],
    },
    {
      key: "update_property",
      label: "Update property",
      noun: "Property",
      description: "Upsert the contact with the mapped properties and this property set, in one request.",
      inputs: propertyInputs,
    },
  ],
  // The contact properties of the connected account come from loadFields; these are the defaults every account has.
  fields: [
    { key: "email", label: "Email", type: "string", constraints: { format: "email", required: true } },
    { key: "firstname", label: "First Name", type: "string" },
    { key: "lastname", label: "Last Name", type: "string" },
    { key: "phone", label: "Phone Number", type: "string", constraints: { format: "phone" } },
  ],
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {},
    description: "Nothing to configure: the OAuth grant is the connection.",
  },
  ...oauthSecretsDescription(hubspotSecrets),
});

/** Meshes' payload fields onto HubSpot's default contact properties; all but email are skipped when absent. */
export const hubspotDefaultMapping: MappingSchema = contactMapping(
  "email",
  { first_name: "firstname", last_name: "lastname", phone: "phone" },
  "HubSpot contact",
);
