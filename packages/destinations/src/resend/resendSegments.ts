import type { AttemptFacts, DeliveryRequest } from "../destinationPlugin.js";
import { recipientOf } from "../email/emailAddress.js";
import { failedBeforeSending } from "../providers/callProvider.js";
import { ruleText } from "../providers/ruleInputs.js";
import { readResendAnswer } from "./resendAnswer.js";
import type { ResendCaller } from "./resendCaller.js";

/** What a contact upsert writes: the mapped contact fields Resend has, each only when mapped. */
export interface ContactChanges {
  first_name?: string;
  last_name?: string;
  unsubscribed?: boolean;
  properties?: Record<string, string | number>;
}

/**
 * `add_to_segment` and `remove_from_segment`: the contact is upserted by its email (updated if Resend knows it,
 * created if not, with the mapped names, `unsubscribed` and `properties`), then added to or removed from the
 * segment. Removal creates no contact: one Resend does not know is in no segment, so the attempt is delivered.
 * A removal Resend answers 404 (the contact, just found, is not in the segment) is delivered too: the state the
 * rule asks for holds, and a retry after a lost answer does not turn into a failure.
 */
export async function deliverSegmentAction(request: DeliveryRequest, caller: ResendCaller, add: boolean): Promise<AttemptFacts> {
  const segmentId = ruleText(request, "id");
  if (segmentId === undefined) return failedBeforeSending("mapping", `metadata.id (the segment) is required by ${request.action}`);
  const email = recipientOf(request.mapped, request.event.payload);
  if (email === undefined) {
    return failedBeforeSending("mapping", "no contact: the mapped field email (or the payload's email) is missing or not an email address");
  }
  const contactPath = `/contacts/${encodeURIComponent(email)}`;
  const changes = contactChanges(request.mapped);
  const found = await findOrUpdate(caller, contactPath, changes);
  if (found.httpStatus === 404) {
    if (!add) return caller.finish({ ...found, providerOutcome: "delivered", message: "Resend has no such contact: it is in no segment" });
    const created = readResendAnswer(await caller.call("POST", "/contacts", { json: { email, ...changes } }));
    if (!isSuccess(created)) return caller.finish(created);
  } else if (!isSuccess(found)) return caller.finish(found);

  const membership = `${contactPath}/segments/${encodeURIComponent(segmentId)}`;
  const answer = readResendAnswer(await caller.call(add ? "POST" : "DELETE", membership));
  if (!add && answer.httpStatus === 404) {
    return caller.finish({ ...answer, providerOutcome: "delivered", message: "the contact is not in the segment (Resend answered 404)" });
  }
  return caller.finish(answer);
}

/** The contact updated with `changes` (PATCH), or only looked up (GET) when there is nothing to change. */
async function findOrUpdate(caller: ResendCaller, contactPath: string, changes: ContactChanges): Promise<AttemptFacts> {
  const answer =
    Object.keys(changes).length === 0 ? await caller.call("GET", contactPath) : await caller.call("PATCH", contactPath, { json: changes });
  return answer.facts.httpStatus === 404 ? answer.facts : readResendAnswer(answer);
}

function isSuccess(facts: AttemptFacts): boolean {
  return facts.providerOutcome === undefined && facts.httpStatus !== undefined && facts.httpStatus >= 200 && facts.httpStatus < 300;
}

/**
 * The contact fields of the mapping's output: `first_name` and `last_name` as text (numbers written as text),
 * `unsubscribed` when it is a boolean, and `properties` (an object, from mapped dests such as
 * `properties.company_name`) with the text and number values Resend stores. Anything else is left out.
 */
export function contactChanges(mapped: Readonly<Record<string, unknown>>): ContactChanges {
  const changes: ContactChanges = {};
  for (const key of ["first_name", "last_name"] as const) {
    const value = mapped[key];
    if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) changes[key] = String(value);
  }
  if (typeof mapped.unsubscribed === "boolean") changes.unsubscribed = mapped.unsubscribed;
  const properties = mapped.properties;
  if (typeof properties === "object" && properties !== null && !Array.isArray(properties)) {
    const kept = Object.entries(properties).filter(
      (entry): entry is [string, string | number] =>
        typeof entry[1] === "string" || (typeof entry[1] === "number" && Number.isFinite(entry[1])),
    );
    if (kept.length > 0) changes.properties = Object.fromEntries(kept);
  }
  return changes;
}
