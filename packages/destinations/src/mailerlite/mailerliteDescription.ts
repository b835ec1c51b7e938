import type { MappingSchema } from "@switchyard/mapping";
import type { ConnectionFieldDefinition, IntegrationAction, IntegrationDescription } from "../integrationDescription.js";
import { apiKeySecretsSchema } from "../providers/apiKeySecrets.js";
import { contactMapping } from "../providers/contactMapping.js";
import { deepFreeze } from "../providers/deepFreeze.js";

/** The subscriber's email: MailerLite's upsert key, sent beside the `fields`. */
export const emailField = "email";

const groupInput = { field: "id", key: "group", kind: "simple", label: "Group", required: true } as const;

const actions: IntegrationAction[] = [
  {
    key: "add_to_group",
    label: "Add to group",
    noun: "Group",
    description:
      "Create or update the subscriber by email, with the mapped fields, and add it to a group; other groups and an existing subscriber's status are kept.",
    inputs: [groupInput],
  },
  {
    key: "remove_from_group",
    label: "Remove from group",
    noun: "Group",
    description: "Remove the subscriber (found by email) from a group; a contact who is not a subscriber is left as it is.",
    inputs: [groupInput],
  },
];

const text = (key: string, label: string, format?: "phone"): ConnectionFieldDefinition => ({
  key,
  label,
  type: "string",
  ...(format === undefined ? {} : { constraints: { format } }),
});

/**
 * The email and the fields every MailerLite account starts with. A connection's catalog is loaded from its account
 * instead (`GET /fields`), with the custom fields it added.
 */
export const standardMailerliteFields: readonly ConnectionFieldDefinition[] = [
  { key: emailField, label: "Email", type: "string", constraints: { format: "email", required: true } },
  text("name", "Name"),
  text("last_name", "Last name"),
  text("company", "Company"),
  text("country", "Country"),
  text("city", "City"),
  text("phone", "Phone", "phone"),
  text("state", "State"),
  text("z_i_p", "ZIP"),
];

export const mailerliteDescription: IntegrationDescription = deepFreeze({
  type: "mailerlite",
  name: "MailerLite",
  description: "Adds subscribers to MailerLite groups by email, with mapped fields, and removes them.",
  authentication: {
    type: "api_key",
    fields: [
      {
        label: "API key",
        key: "api_key",
        type: "password",
        required: true,
        helpText: "A token from Integrations › MailerLite API › Generate new token.",
      },
    ],
  },
  actions,
  fields: standardMailerliteFields,
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {},
  },
  secrets_schema: apiKeySecretsSchema("A MailerLite API token, sent as Authorization: Bearer."),
  secret_fields: ["secrets.api_key"],
});

/** A new connection's mapping: the payload's email, names and phone onto the subscriber's email and default fields. */
export const mailerliteDefaultMapping: MappingSchema = contactMapping(emailField, {
  first_name: "name",
  last_name: "last_name",
  phone: "phone",
});
