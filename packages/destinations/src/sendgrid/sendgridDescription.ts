import { bodyInput, contactFields, fromInput, subjectInput } from "../email/emailInputs.js";
import type { IntegrationDescription } from "../integrationDescription.js";
import { apiKeyForm, apiKeySchemas } from "../providers/apiKeySecrets.js";
import { deepFreeze } from "../providers/deepFreeze.js";

export const sendgridKeyFormat = { provider: "SendGrid", prefix: "SG." } as const;

/** SendGrid (Twilio) email: dynamic templates and plain-text messages through the v3 Mail Send API. */
export const sendgridDescription: IntegrationDescription = deepFreeze({
  type: "sendgrid",
  name: "SendGrid",
  description:
    "Sends an email per event through SendGrid: a dynamic template filled with the mapped fields and the payload, or a templated plain-text message.",
  authentication: {
    type: "api_key",
    fields: apiKeyForm(
      sendgridKeyFormat,
      "A SendGrid API key with the Mail Send scope (and Template Engine read access to list templates).",
    ),
  },
  actions: [
    {
      key: "send_email_template",
      label: "Send email template",
      noun: "Template",
      description:
        "Send a dynamic template to the mapped email. Its handlebars data is the event payload with the mapped fields over it, and `subject` when the rule sets one.",
      inputs: [
        {
          field: "id",
          key: "id",
          kind: "simple",
          label: "Dynamic template",
          required: true,
          description: "A dynamic template id (d-...).",
        },
        fromInput(true),
        subjectInput(
          false,
          "Passed to the template as {{subject}} (a dynamic template's subject line is its own; write {{subject}} there to use this).",
        ),
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
  fields: [
    ...contactFields(),
    { key: "name", label: "Name", type: "string", description: "The recipient's display name in the To header, and template data." },
  ],
  ...apiKeySchemas(sendgridKeyFormat),
  secret_fields: ["secrets.api_key"],
});
