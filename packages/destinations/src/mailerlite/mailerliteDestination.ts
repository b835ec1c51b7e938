import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { AttemptDeadline } from "../providers/attemptDeadline.js";
import { callProvider, failedBeforeSending, guardAttempt, type ProviderAnswer } from "../providers/callProvider.js";
import { mappedContact } from "../providers/mappedContact.js";
import { noSuchAction } from "../providers/noSuchAction.js";
import { ruleText } from "../providers/ruleInputs.js";
import { type MailerliteApi, mailerliteApi, mailerliteFacts } from "./mailerliteApi.js";
import { loadMailerliteFields, loadMailerliteGroups } from "./mailerliteCatalog.js";
import { type MailerliteMetadata, type MailerliteSecrets, parseMailerliteConfig } from "./mailerliteConfig.js";
import { emailField, mailerliteDefaultMapping, mailerliteDescription } from "./mailerliteDescription.js";

/** MailerLite groups: add (upsert by email, in the group) and remove subscribers. */
export const mailerliteDestination: DestinationPlugin<MailerliteMetadata, MailerliteSecrets> = {
  type: "mailerlite",
  description: mailerliteDescription,
  parseConfig: (input) => parseMailerliteConfig(input),
  deliver: (request, context) => guardAttempt(() => deliverMailerlite(request, context)),
  async loadActionData(connection, context) {
    const groups = await loadMailerliteGroups(connection, context);
    return { add_to_group: groups, remove_from_group: groups };
  },
  loadFields: loadMailerliteFields,
  defaultMapping: mailerliteDefaultMapping,
};

interface SubscriberCall {
  readonly api: MailerliteApi;
  readonly groupId: string;
  readonly email: string;
  readonly deadline: AttemptDeadline;
  readonly request: DeliveryRequest;
  readonly context: DeliveryContext;
}

async function deliverMailerlite(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  const { action } = request;
  if (action !== "add_to_group" && action !== "remove_from_group") {
    return noSuchAction(mailerliteDescription, action);
  }
  const api = mailerliteApi(request.connection, context);
  if (api === undefined)
    return failedBeforeSending("internal", `connection ${request.connection.id} has no valid stored MailerLite config`);
  const groupId = ruleText(request, "id");
  if (groupId === undefined) return failedBeforeSending("mapping", `the rule's metadata.id (the group) is required by ${action}`);
  const contact = mappedContact(request.mapped, [emailField]);
  if (!contact.ok) return failedBeforeSending("mapping", contact.message);

  const call = { api, groupId, email: contact.email, deadline: new AttemptDeadline(request.timeoutMs), request, context };
  return action === "add_to_group" ? addToGroup(call, contact.fields) : removeFromGroup(call);
}

/**
 * One `POST /subscribers` with `groups: [id]`, rather than an upsert and then `POST /subscribers/{id}/groups/{id}`:
 * MailerLite documents the upsert as non-destructive (fields and groups it does not name are kept), so one request
 * does both, never leaves a subscriber upserted but not grouped, and spends one of the account's 120 requests a
 * minute instead of two. No `status` is sent: a new subscriber gets the account's own choice (active, or
 * unconfirmed with a confirmation email when it has double opt-in for the API), and an existing one keeps its
 * status, so a contact who unsubscribed stays unsubscribed. Every mapped field but the email is a subscriber field.
 */
async function addToGroup(call: SubscriberCall, fields: Readonly<Record<string, unknown>>): Promise<AttemptFacts> {
  const body = { email: call.email, ...(Object.keys(fields).length > 0 ? { fields } : {}), groups: [call.groupId] };
  const answer = await send(call, "POST", `${call.api.base}/subscribers`, body);
  return mailerliteFacts(answer.facts, answer.json, call.deadline.elapsedMs());
}

/**
 * Finds the subscriber by email (`GET /subscribers/{email}`) and unassigns it
 * (`DELETE /subscribers/{id}/groups/{group_id}`). No subscriber with that email: nothing to remove, delivered. A 404
 * of the unassign (the subscriber was just found) means the group does not exist: a client error, final.
 */
async function removeFromGroup(call: SubscriberCall): Promise<AttemptFacts> {
  const found = await send(call, "GET", `${call.api.base}/subscribers/${encodeURIComponent(call.email)}`);
  if (found.facts.httpStatus === 404) {
    return {
      ...found.facts,
      providerOutcome: "delivered",
      message: "no subscriber has this email: nothing to remove",
      durationMs: call.deadline.elapsedMs(),
    };
  }
  const id = subscriberId(found);
  if (id === undefined) {
    const status = found.facts.httpStatus;
    const unreadable = status !== undefined && status >= 200 && status < 300;
    return unreadable
      ? {
          ...found.facts,
          providerOutcome: "rejected_server_error",
          message: "MailerLite answered a subscriber without an id",
          durationMs: call.deadline.elapsedMs(),
        }
      : mailerliteFacts(found.facts, found.json, call.deadline.elapsedMs());
  }
  const url = `${call.api.base}/subscribers/${encodeURIComponent(id)}/groups/${encodeURIComponent(call.groupId)}`;
  const answer = await send(call, "DELETE", url);
  return mailerliteFacts(answer.facts, answer.json, call.deadline.elapsedMs());
}

function subscriberId(answer: ProviderAnswer): string | undefined {
  const status = answer.facts.httpStatus;
  if (status === undefined || status < 200 || status >= 300) return undefined;
  const data = (answer.json as { data?: { id?: unknown } } | undefined)?.data;
  if (typeof data?.id === "number" && Number.isSafeInteger(data.id)) return String(data.id);
  return typeof data?.id === "string" && data.id !== "" ? data.id : undefined;
}

function send(call: SubscriberCall, method: "POST" | "GET" | "DELETE", url: string, json?: unknown): Promise<ProviderAnswer> {
  return callProvider(
    { method, url, headers: call.api.headers, timeoutMs: call.deadline.remainingMs(), ...(json === undefined ? {} : { json }) },
    call.context,
    call.request.now,
  );
}
