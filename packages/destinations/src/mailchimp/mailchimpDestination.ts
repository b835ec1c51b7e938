import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { AttemptDeadline } from "../providers/attemptDeadline.js";
import { callProvider, failedBeforeSending, guardAttempt, type ProviderAnswer } from "../providers/callProvider.js";
import { mappedContact } from "../providers/mappedContact.js";
import { noSuchAction } from "../providers/noSuchAction.js";
import { ruleText } from "../providers/ruleInputs.js";
import { type MailchimpApi, mailchimpApi, mailchimpProblem, segment, subscriberHash } from "./mailchimpApi.js";
import { loadMailchimpFields, loadMailchimpLists } from "./mailchimpCatalog.js";
import { type MailchimpMetadata, type MailchimpSecrets, parseMailchimpConfig } from "./mailchimpConfig.js";
import { emailField, mailchimpDefaultMapping, mailchimpDescription } from "./mailchimpDescription.js";

/**
 * A new member's status. `subscribed`, not `pending`: the rule is the account owner's decision to put the contact on
 * the audience, made from their own app's events (where the contact's consent was given), and `pending` would leave
 * the contact off every campaign until they answer a confirmation email Mailchimp sends in the owner's name. An
 * existing member keeps its status (`status_if_new` only applies on creation), so a contact who unsubscribed is
 * never subscribed again by an event.
 */
export const newMemberStatus = "subscribed";

/** Mailchimp audiences: add (upsert by email) and remove (archive) members. */
export const mailchimpDestination: DestinationPlugin<MailchimpMetadata, MailchimpSecrets> = {
  type: "mailchimp",
  description: mailchimpDescription,
  parseConfig: (input) => parseMailchimpConfig(input),
  deliver: (request, context) => guardAttempt(() => deliverMailchimp(request, context)),
  async loadActionData(connection, context) {
    const lists = await loadMailchimpLists(connection, context);
    return { add_to_list: lists, remove_from_list: lists };
  },
  loadFields: loadMailchimpFields,
  defaultMapping: mailchimpDefaultMapping,
};

async function deliverMailchimp(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  const { action } = request;
  if (action !== "add_to_list" && action !== "remove_from_list") {
    return noSuchAction(mailchimpDescription, action);
  }
  const api = mailchimpApi(request.connection, context);
  if (api === undefined) return failedBeforeSending("internal", `connection ${request.connection.id} has no valid stored Mailchimp config`);
  const listId = ruleText(request, "id");
  if (listId === undefined) return failedBeforeSending("mapping", `the rule's metadata.id (the audience) is required by ${action}`);
  const contact = mappedContact(request.mapped, [emailField, "email"]);
  if (!contact.ok) return failedBeforeSending("mapping", contact.message);

  const deadline = new AttemptDeadline(request.timeoutMs);
  const member = { api, listId, email: contact.email, deadline, request, context };
  return action === "add_to_list" ? addMember(member, contact.fields) : removeMember(member);
}

interface MemberCall {
  readonly api: MailchimpApi;
  readonly listId: string;
  readonly email: string;
  readonly deadline: AttemptDeadline;
  readonly request: DeliveryRequest;
  readonly context: DeliveryContext;
}

/**
 * Upserts the member (`PUT /lists/{list_id}/members/{subscriber_hash}`): a new one is created subscribed, an
 * existing one gets the mapped merge fields and keeps its status. Every mapped field but the email is a merge field,
 * by its tag. `status_if_new` leaves an archived member archived, so one that a remove archived is brought back with
 * a second PUT setting `status` (Mailchimp refuses that, 400 "Member In Compliance State", for a contact who had
 * unsubscribed: their opt-out stands).
 */
async function addMember(call: MemberCall, mergeFields: Readonly<Record<string, unknown>>): Promise<AttemptFacts> {
  const body = {
    email_address: call.email,
    status_if_new: newMemberStatus,
    ...(Object.keys(mergeFields).length > 0 ? { merge_fields: mergeFields } : {}),
  };
  const answer = await send(call, "PUT", memberUrl(call), body);
  if (!isArchived(answer)) return described(answer, call.deadline);
  const restored = await send(call, "PUT", memberUrl(call), { email_address: call.email, status: newMemberStatus });
  return described(restored, call.deadline);
}

function isArchived(answer: ProviderAnswer): boolean {
  const status = answer.facts.httpStatus;
  const member = answer.json as { status?: unknown } | undefined;
  return status !== undefined && status >= 200 && status < 300 && member?.status === "archived";
}

/**
 * Archives the member (`DELETE /lists/{list_id}/members/{subscriber_hash}`) rather than setting it `unsubscribed`:
 * an unsubscribe records the contact's own opt-out (and a later add could never subscribe them again), which an
 * event in the owner's app is not; an archived member leaves the audience, keeps its history and comes back with
 * the next add. A 404 means either no such member (nothing to remove: delivered) or no such audience (a rule that
 * names a deleted audience must fail), so the audience is looked up to tell them apart.
 */
async function removeMember(call: MemberCall): Promise<AttemptFacts> {
  const answer = await send(call, "DELETE", memberUrl(call));
  if (answer.facts.httpStatus !== 404) return described(answer, call.deadline);
  const audience = await send(call, "GET", `${call.api.base}/lists/${segment(call.listId)}?fields=id`);
  if (audience.facts.httpStatus === 404) {
    return { ...answer.facts, message: "Mailchimp answered 404: the audience does not exist", durationMs: call.deadline.elapsedMs() };
  }
  if (audience.facts.httpStatus !== 200) return described(audience, call.deadline);
  return {
    ...answer.facts,
    providerOutcome: "delivered",
    message: "the contact is not a member of the audience: nothing to remove",
    durationMs: call.deadline.elapsedMs(),
  };
}

function memberUrl(call: MemberCall): string {
  return `${call.api.base}/lists/${segment(call.listId)}/members/${subscriberHash(call.email)}`;
}

function send(call: MemberCall, method: "PUT" | "DELETE" | "GET", url: string, json?: unknown): Promise<ProviderAnswer> {
  return callProvider(
    { method, url, headers: call.api.headers, timeoutMs: call.deadline.remainingMs(), ...(json === undefined ? {} : { json }) },
    call.context,
    call.request.now,
  );
}

/** The answer's facts, over the whole attempt, with Mailchimp's problem title as the message of an error. */
function described(answer: ProviderAnswer, deadline: AttemptDeadline): AttemptFacts {
  const status = answer.facts.httpStatus;
  const failed = status !== undefined && (status < 200 || status >= 300);
  return {
    ...answer.facts,
    durationMs: deadline.elapsedMs(),
    ...(failed ? { message: mailchimpProblem(status, answer.json) } : {}),
  };
}
