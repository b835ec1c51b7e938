import type { DeliveryRequest } from "../destinationPlugin.js";
import type { Sender } from "../email/emailAddress.js";
import type { EmailParts } from "../email/emailInputs.js";

/** A Mail Send address: `{ email, name? }`. */
interface Address {
  readonly email: string;
  readonly name?: string;
}

/**
 * The Mail Send body of `send_email_template`: one personalization to the recipient, whose
 * `dynamic_template_data` is the event payload with the mapped fields over it (so a template can use any payload
 * path, and a mapping can rename or reshape what it needs), plus `subject` when the rule sets one.
 */
export function templateMail(templateId: string, parts: EmailParts, request: DeliveryRequest): unknown {
  const data: Record<string, unknown> = { ...request.event.payload, ...request.mapped };
  if (parts.subject !== undefined) data.subject = parts.subject;
  return {
    personalizations: [{ to: [recipient(parts.to, request.mapped)], dynamic_template_data: data }],
    from: sender(parts.from),
    template_id: templateId,
  };
}

/** The Mail Send body of `send_email`: the rendered subject and the rendered body as `text/plain`. */
export function plainTextMail(parts: EmailParts, mapped: Readonly<Record<string, unknown>>): unknown {
  return {
    personalizations: [{ to: [recipient(parts.to, mapped)] }],
    from: sender(parts.from),
    subject: parts.subject,
    content: [{ type: "text/plain", value: parts.body }],
  };
}

/** The recipient, with the mapped `name` as its display name when it is text. */
function recipient(email: string, mapped: Readonly<Record<string, unknown>>): Address {
  const name = typeof mapped.name === "string" ? mapped.name.trim() : "";
  return name === "" || /[\r\n]/.test(name) ? { email } : { email, name };
}

/** Both actions require `from`; `emailParts` checked it. */
function sender(from: Sender | undefined): Address {
  if (from === undefined) throw new Error("the sender was not checked before building the mail");
  return from.name === undefined ? { email: from.email } : { email: from.email, name: from.name };
}
