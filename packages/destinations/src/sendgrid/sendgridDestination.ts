import type { MappingSchema } from "@switchyard/mapping";
import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, AttemptFacts, ConnectionConfig, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { emailParts, isAttemptFacts } from "../email/emailInputs.js";
import { type ApiKeyMetadata, type ApiKeySecrets, apiKeyOf, parseApiKeyConfig } from "../providers/apiKeySecrets.js";
import { callProvider, failedBeforeSending, guardAttempt, ProviderReadError, readProvider } from "../providers/callProvider.js";
import { contactMapping } from "../providers/contactMapping.js";
import { noSuchAction } from "../providers/noSuchAction.js";
import { apiBase } from "../providers/providerSettings.js";
import { ruleText } from "../providers/ruleInputs.js";
import { readSendgridAnswer } from "./sendgridAnswer.js";
import { sendgridDescription, sendgridKeyFormat } from "./sendgridDescription.js";
import { plainTextMail, templateMail } from "./sendgridMail.js";

/** SendGrid's documented API origin; `SWITCHYARD_SENDGRID_API_URL` replaces it. */
export const sendgridApiBase = "https://api.sendgrid.com";

/** The recipient from the payload's `email` (needed), the display name and the name parts for templates. */
const defaultMapping: MappingSchema = contactMapping("email", { first_name: "first_name", last_name: "last_name", name: "name" });

/** SendGrid: `send_email_template` (a dynamic template) and `send_email` (plain text), one Mail Send request each. */
export const sendgridDestination: DestinationPlugin<ApiKeyMetadata, ApiKeySecrets> = {
  type: "sendgrid",
  description: sendgridDescription,
  parseConfig: (input) => parseApiKeyConfig(input, sendgridKeyFormat),
  deliver: (request, context) => guardAttempt(() => deliverSendgrid(request, context)),
  loadActionData: async (connection, context) => ({ send_email_template: await dynamicTemplates(connection, context) }),
  defaultMapping,
};

async function deliverSendgrid(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  const apiKey = apiKeyOf(request.connection.secrets);
  if (apiKey === undefined) return failedBeforeSending("internal", `connection ${request.connection.id} has no stored SendGrid API key`);
  let mail: unknown;
  if (request.action === "send_email_template") {
    const templateId = ruleText(request, "id");
    if (templateId === undefined)
      return failedBeforeSending("mapping", "metadata.id (the dynamic template) is required by send_email_template");
    const parts = emailParts(request, ["from"]);
    if (isAttemptFacts(parts)) return parts;
    mail = templateMail(templateId, parts, request);
  } else if (request.action === "send_email") {
    const parts = emailParts(request, ["from", "subject", "body"]);
    if (isAttemptFacts(parts)) return parts;
    mail = plainTextMail(parts, request.mapped);
  } else {
    return noSuchAction(sendgridDescription, request.action);
  }
  const answer = await callProvider(
    {
      method: "POST",
      url: `${apiBase(context.providers, "sendgrid", sendgridApiBase)}/v3/mail/send`,
      headers: { Authorization: `Bearer ${apiKey}` },
      json: mail,
      timeoutMs: request.timeoutMs,
    },
    context,
    request.now,
  );
  return readSendgridAnswer(answer, request.now());
}

/** Pages of dynamic templates asked for at once (SendGrid's maximum). */
const templatePageSize = 200;
/** A bound on the pages followed, so a misbehaving API cannot keep a catalog read going. */
const maxTemplatePages = 10;

/** The account's dynamic templates (`GET /v3/templates?generations=dynamic`), every page up to the bound. */
async function dynamicTemplates(connection: ConnectionConfig, context: DeliveryContext): Promise<ActionItem[]> {
  const apiKey = apiKeyOf(connection.secrets);
  if (apiKey === undefined) throw new ProviderReadError(`connection ${connection.id} has no stored SendGrid API key`);
  const items: ActionItem[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < maxTemplatePages; page++) {
    const query = new URLSearchParams({ generations: "dynamic", page_size: String(templatePageSize) });
    if (pageToken !== undefined) query.set("page_token", pageToken);
    const json = await readProvider(
      "SendGrid",
      {
        method: "GET",
        url: `${apiBase(context.providers, "sendgrid", sendgridApiBase)}/v3/templates?${query}`,
        headers: { Authorization: `Bearer ${apiKey}` },
        timeoutMs: 10_000,
      },
      context,
    );
    const { result, next } = templatePage(json);
    items.push(...result);
    pageToken = next;
    if (pageToken === undefined) break;
  }
  return items;
}

/** One page of `GET /v3/templates`: `{ result: [{ id, name }], _metadata: { next } }`, `next` a URL with `page_token`. */
function templatePage(json: unknown): { result: ActionItem[]; next: string | undefined } {
  const page = json as { result?: unknown; _metadata?: { next?: unknown } } | null;
  if (page === null || typeof page !== "object" || !Array.isArray(page.result)) {
    throw new ProviderReadError("SendGrid answered a template list without a result array");
  }
  const result: ActionItem[] = [];
  for (const template of page.result as { id?: unknown; name?: unknown }[]) {
    if (typeof template?.id !== "string") continue;
    result.push({ id: template.id, label: typeof template.name === "string" && template.name !== "" ? template.name : template.id });
  }
  const next = page._metadata?.next;
  const token = typeof next === "string" && URL.canParse(next) ? new URL(next).searchParams.get("page_token") : null;
  return { result, next: token === null || token === "" || result.length === 0 ? undefined : token };
}
