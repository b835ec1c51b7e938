import type { AttemptFacts, DeliveryRequest } from "../destinationPlugin.js";
import type { ConnectionFieldDefinition, IntegrationActionInput } from "../integrationDescription.js";
import { failedBeforeSending } from "../providers/callProvider.js";
import { renderRuleTemplate, ruleText } from "../providers/ruleInputs.js";
import { maxSenderLength, parseSender, recipientOf, type Sender } from "./emailAddress.js";

/** Longest subject template a rule may set (providers cut long subjects; this is far above any useful one). */
export const maxSubjectLength = 998;

/** The `from` input of an email action: checked as text when the rule is written, as an address at delivery. */
export function fromInput(required: boolean): IntegrationActionInput {
  return {
    field: "from",
    key: "from",
    kind: "field",
    label: "From",
    required,
    maxLength: maxSenderLength,
    description: "The sender: an address of a verified domain or sender, `ada@example.com` or `Ada Lovelace <ada@example.com>`.",
  };
}

export function subjectInput(required: boolean, description: string): IntegrationActionInput {
  return {
    field: "subject",
    key: "subject",
    kind: "field",
    label: "Subject",
    required,
    template: true,
    maxLength: maxSubjectLength,
    description,
  };
}

export const bodyInput: IntegrationActionInput = {
  field: "body",
  key: "body",
  kind: "field",
  label: "Body",
  required: true,
  template: true,
  description: "The message, sent as plain text: `{{path}}` values from the event payload are inserted as they are, never as HTML.",
};

/** What an email action sends, read from the rule and the mapped fields before anything is sent. */
export interface EmailParts {
  readonly to: string;
  readonly from?: Sender;
  readonly subject?: string;
  readonly body?: string;
}

/**
 * The recipient, sender, subject and body of an email action (the ones its rule sets; `required` ones must be
 * there), or the mapping failure that stops the attempt. Messages name fields, never their values.
 */
export function emailParts(request: DeliveryRequest, required: readonly ("from" | "subject" | "body")[]): EmailParts | AttemptFacts {
  const to = recipientOf(request.mapped, request.event.payload);
  if (to === undefined) {
    return failedBeforeSending(
      "mapping",
      "no recipient: the mapped field email (or the payload's email) is missing or not an email address",
    );
  }
  const fromText = ruleText(request, "from");
  const from = fromText === undefined ? undefined : parseSender(fromText);
  if (fromText !== undefined && from === undefined) {
    return failedBeforeSending("mapping", "metadata.from is not an email address (`ada@example.com` or `Name <ada@example.com>`)");
  }
  const subject = renderRuleTemplate(request, "subject");
  if (!subject.ok) return failedBeforeSending("mapping", subject.message);
  const body = renderRuleTemplate(request, "body");
  if (!body.ok) return failedBeforeSending("mapping", body.message);
  const parts = { to, from, subject: subject.text, body: body.text };
  const missing = required.find((field) => parts[field] === undefined || parts[field] === "");
  if (missing !== undefined) return failedBeforeSending("mapping", `metadata.${missing} is required by the ${request.action} action`);
  // An optional text that renders to nothing is left unset, so the provider's own (a template's subject) applies.
  return {
    to,
    ...(from === undefined ? {} : { from }),
    ...(subject.text === undefined || subject.text === "" ? {} : { subject: subject.text }),
    ...(body.text === undefined || body.text === "" ? {} : { body: body.text }),
  };
}

export function isAttemptFacts(value: EmailParts | AttemptFacts): value is AttemptFacts {
  return !("to" in value);
}

/** The contact fields Meshes' payloads carry, as destination fields an email provider's mapping can write. */
export function contactFields(): ConnectionFieldDefinition[] {
  return [
    {
      key: "email",
      label: "Email",
      type: "string",
      description: "The recipient (and the contact's key).",
      constraints: { format: "email", required: true },
    },
    { key: "first_name", label: "First name", type: "string", description: "The given name." },
    { key: "last_name", label: "Last name", type: "string", description: "The family name." },
  ];
}
