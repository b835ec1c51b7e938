import type { MappingSchema } from "@switchyard/mapping";
import type { ConnectionFieldDefinition, IntegrationAction, IntegrationDescription } from "../integrationDescription.js";
import { apiKeySecretsSchema } from "../providers/apiKeySecrets.js";
import { contactMapping } from "../providers/contactMapping.js";
import { deepFreeze } from "../providers/deepFreeze.js";
import { dataCenterPattern } from "./mailchimpConfig.js";

/** The member field a mapping writes the contact's email to (Mailchimp's own name for it). */
export const emailField = "email_address";

const audienceInput = { field: "id", key: "list", kind: "simple", label: "Audience", required: true } as const;

const actions: IntegrationAction[] = [
  {
    key: "add_to_list",
    label: "Add to list",
    noun: "Audience",
    description:
      "Add or update the contact in an audience (list), by email: a new member is subscribed, an existing one keeps its status and gets the mapped merge fields.",
    inputs: [audienceInput],
  },
  {
    key: "remove_from_list",
    label: "Remove from list",
    noun: "Audience",
    description: "Archive the contact's membership of an audience (list); a contact who is not a member is left as it is.",
    inputs: [audienceInput],
  },
];

/**
 * The fields every new Mailchimp audience has (its default merge fields) and the member's email. A connection's
 * catalog is loaded from its account instead (`loadMailchimpFields`), with each audience's own merge fields.
 */
export const standardMailchimpFields: readonly ConnectionFieldDefinition[] = [
  { key: emailField, label: "Email address", type: "string", constraints: { format: "email", required: true } },
  { key: "FNAME", label: "First name", type: "string", provider_meta: { merge_type: "text" } },
  { key: "LNAME", label: "Last name", type: "string", provider_meta: { merge_type: "text" } },
  { key: "PHONE", label: "Phone number", type: "string", constraints: { format: "phone" }, provider_meta: { merge_type: "phone" } },
  {
    key: "ADDRESS",
    label: "Address",
    type: "object",
    description: "An object with addr1, city, state and zip (required), addr2 and country (optional).",
    provider_meta: { merge_type: "address" },
  },
  { key: "BIRTHDAY", label: "Birthday", type: "string", description: "MM/DD.", provider_meta: { merge_type: "birthday" } },
];

export const mailchimpDescription: IntegrationDescription = deepFreeze({
  type: "mailchimp",
  name: "Mailchimp",
  description: "Adds contacts to Mailchimp audiences (lists) by email, with mapped merge fields, and removes them.",
  authentication: {
    type: "api_key",
    fields: [
      {
        label: "API key",
        key: "api_key",
        type: "password",
        required: true,
        helpText: "A Marketing API key (Profile › Extras › API keys), such as 0123…-us21.",
      },
      {
        label: "Data center",
        key: "data_center",
        type: "text",
        helpText: "Such as us21; read from the key's suffix when left empty.",
      },
    ],
  },
  actions,
  fields: standardMailchimpFields,
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {
      data_center: {
        type: "string",
        pattern: dataCenterPattern,
        description:
          "The account's data center (the API host is https://{data_center}.api.mailchimp.com). Default: the API key's -<dc> suffix.",
      },
    },
  },
  secrets_schema: apiKeySecretsSchema("A Mailchimp Marketing API key, sent as the password of HTTP Basic authentication."),
  secret_fields: ["secrets.api_key"],
});

/** A new connection's mapping: the payload's email, names and phone onto the member and its default merge fields. */
export const mailchimpDefaultMapping: MappingSchema = contactMapping(emailField, {
  first_name: "FNAME",
  last_name: "LNAME",
  phone: "PHONE",
});
