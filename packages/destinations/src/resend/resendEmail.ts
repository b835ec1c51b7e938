import type { AttemptFacts, DeliveryRequest } from "../destinationPlugin.js";
import type { Sender } from "../email/emailAddress.js";
import { emailParts, isAttemptFacts } from "../email/emailInputs.js";
import { failedBeforeSending } from "../providers/callProvider.js";
import { ruleText } from "../providers/ruleInputs.js";
import { readResendAnswer } from "./resendAnswer.js";
import type { ResendCaller } from "./resendCaller.js";

/** Variable names Resend reserves in templates (its contact fields and unsubscribe link); never sent as variables. */
const reservedVariables: ReadonlySet<string> = new Set(["FIRST_NAME", "LAST_NAME", "EMAIL", "UNSUBSCRIBE_URL", "contact", "this"]);

/**
 * `send_email_template` and `send_email`: one `POST /emails` to the recipient, with the delivery id as Resend's
 * `Idempotency-Key`, so a retry after a lost answer does not send the email twice (Resend keeps keys for 24 hours).
 */
export async function deliverEmail(request: DeliveryRequest, caller: ResendCaller): Promise<AttemptFacts> {
  const body = request.action === "send_email_template" ? templateEmail(request) : plainTextEmail(request);
  if (isFacts(body)) return body;
  const answer = await caller.call("POST", "/emails", { json: body, headers: { "Idempotency-Key": request.deliveryId } });
  return caller.finish(readResendAnswer(answer));
}

/**
 * A published template to the recipient. Its variables are the mapped fields other than `email` whose values are
 * text or numbers (booleans as "true"/"false"; Resend's variables are strings or numbers), leaving out Resend's
 * reserved names: the mapping decides which variables a template gets. `from` and `subject` are sent only when the
 * rule sets them, replacing the template's own.
 */
function templateEmail(request: DeliveryRequest): Record<string, unknown> | AttemptFacts {
  const templateId = ruleText(request, "id");
  if (templateId === undefined) return failedBeforeSending("mapping", "metadata.id (the template) is required by send_email_template");
  const parts = emailParts(request, []);
  if (isAttemptFacts(parts)) return parts;
  return {
    ...(parts.from === undefined ? {} : { from: senderText(parts.from) }),
    to: [parts.to],
    ...(parts.subject === undefined ? {} : { subject: parts.subject }),
    template: { id: templateId, variables: templateVariables(request.mapped) },
  };
}

/** The rendered subject and body, the body as `text` (never HTML: payload values are inserted as they are). */
function plainTextEmail(request: DeliveryRequest): Record<string, unknown> | AttemptFacts {
  const parts = emailParts(request, ["from", "subject", "body"]);
  if (isAttemptFacts(parts)) return parts;
  return { from: senderText(parts.from as Sender), to: [parts.to], subject: parts.subject, text: parts.body };
}

export function templateVariables(mapped: Readonly<Record<string, unknown>>): Record<string, string | number> {
  const variables: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(mapped)) {
    if (key === "email" || reservedVariables.has(key)) continue;
    if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) variables[key] = value;
    else if (typeof value === "boolean") variables[key] = String(value);
  }
  return variables;
}

/** Resend takes the sender as text: `address` or `Name <address>` (a name with quotes or commas is quoted). */
function senderText(from: Sender): string {
  if (from.name === undefined) return from.email;
  const name = /[",()<>@:;]/.test(from.name) ? `"${from.name.replace(/["\\]/g, "")}"` : from.name;
  return `${name} <${from.email}>`;
}

function isFacts(value: Record<string, unknown> | AttemptFacts): value is AttemptFacts {
  return "durationMs" in value && !("to" in value);
}
