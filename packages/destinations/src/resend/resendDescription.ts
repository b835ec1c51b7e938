import { bodyInput, contactFields, fromInput, subjectInput } from "../email/emailInputs.js";
import type { ConnectionFieldDefinition, IntegrationActionInput, IntegrationDescription } from "../integrationDescription.js";
import { apiKeyForm, apiKeySchemas } from "../providers/apiKeySecrets.js";
import { deepFreeze } from "../providers/deepFreeze.js";

export const resendKeyFormat = { provider: "Resend", prefix: "re_" } as const;

const segmentInput: IntegrationActionInput = { field: "id", key: "id", kind: "simple", label: "Segment", required: true };

/** Resend email: published templates, plain-text messages, and segment membership of contacts upserted by email. */
export const resendDescription: IntegrationDescription = deepFreeze({
  type: "resend",
  name: "Resend",
  description:
    "Sends an email per event through Resend (a published template with the mapped fields as its variables, or a templated plain-text message), and adds or removes contacts, upserted by email, to or from segments.",
  authentication: {
    type: "api_key",
    fields: apiKeyForm(
      resendKeyFormat,
      "A Resend API key with full access (a sending-only key can send but not manage contacts or list templates).",
    ),
  },
  actions: [
    {
      key: "add_to_segment",
      label: "Add to segment",
      noun: "Segment",
      description: "Create or update the contact by its mapped email (names, unsubscribed, properties), then add it to the segment.",
      inputs: [segmentInput],
    },
    {
      key: "remove_from_segment",
      label: "Remove from segment",
      noun: "Segment",
      description:
        "Update the contact by its mapped email, then remove it from the segment. A contact Resend does not know is left uncreated.",
      inputs: [segmentInput],
    },
    {
      key: "send_email_template",
      label: "Send email template",
      noun: "Template",
      description:
        "Send a published template to the mapped email. Its variables are the other mapped fields (text or numbers); `from` and `subject`, when set, replace the template's own.",
      inputs: [
        { field: "id", key: "id", kind: "simple", label: "Template", required: true, description: "A template id or alias." },
        subjectInput(false, "Replaces the template's subject; rendered from the event payload."),
        fromInput(false),
      ],
    },
    {
      key: "send_email",
      label: "Send email",
      noun: "Email",
      description: "Send a plain-text email to the mapped email, its subject and body rendered from the event payload.",
      inputs: [subjectInput(true, "Rendered from the event payload."), fromInput(true), bodyInput],
    },
  ],
  fields: resendContactFields(),
  ...apiKeySchemas(resendKeyFormat),
  secret_fields: ["secrets.api_key"],
});

/** The fields every Resend contact has; the account's custom properties are added by `loadFields` as `properties.<key>`. */
export function resendContactFields(): ConnectionFieldDefinition[] {
  return [
    ...contactFields(),
    {
      key: "unsubscribed",
      label: "Unsubscribed",
      type: "boolean",
      description: "Whether the contact is unsubscribed from all broadcasts; left as it is when not mapped.",
    },
  ];
}
