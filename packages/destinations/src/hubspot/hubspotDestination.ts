import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { AttemptDeadline } from "../providers/attemptDeadline.js";
import { callProvider, failedBeforeSending, guardAttempt } from "../providers/callProvider.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { accessTokenOf, type OAuthSecrets } from "../providers/oauthProvider.js";
import { apiBase } from "../providers/providerSettings.js";
import { renderRuleTemplate, ruleText } from "../providers/ruleInputs.js";
import { hubspotFacts } from "./hubspotAnswers.js";
import { loadHubSpotActionData, loadHubSpotFields } from "./hubspotCatalog.js";
import { type HubSpotMetadata, parseHubSpotConfig } from "./hubspotConfig.js";
import { contactProperties } from "./hubspotContact.js";
import { hubspotApiBase, hubspotDefaultMapping, hubspotDescription, hubspotOAuth } from "./hubspotDescription.js";

/**
 * HubSpot: every action first upserts the contact by email with the mapped properties, in one documented request
 * (`POST /crm/v3/objects/contacts/batch/upsert` with `idProperty: "email"`). Unlike create-then-update-on-409, it
 * has no window in which two deliveries for the same new email both create, and it answers the record id that the
 * list memberships need. Then `add_to_list` / `remove_from_list` change the list's memberships by that id;
 * `update_property` sends its property in the upsert itself.
 */
export const hubspotDestination: DestinationPlugin<HubSpotMetadata, OAuthSecrets> = {
  type: "hubspot",
  description: hubspotDescription,
  parseConfig: parseHubSpotConfig,
  deliver: (request, context) => guardAttempt(() => deliverHubSpot(request, context)),
  loadActionData: loadHubSpotActionData,
  loadFields: loadHubSpotFields,
  defaultMapping: hubspotDefaultMapping,
  oauth: hubspotOAuth,
};

type Plan =
  | { readonly ok: true; readonly email: string; readonly properties: Record<string, string>; readonly listId?: string }
  | { readonly ok: false; readonly facts: AttemptFacts };

/** What the attempt will send, from the mapped fields and the rule; a missing input is a mapping failure. */
function planHubSpot(request: DeliveryRequest): Plan {
  const mapping = (message: string): Plan => ({ ok: false, facts: failedBeforeSending("mapping", message) });
  if (!hubspotDescription.actions.some((action) => action.key === request.action)) {
    return mapping(`HubSpot has no action "${request.action}"`);
  }
  const contact = contactProperties(request.mapped);
  if (!contact.ok) return mapping(contact.message);
  const id = ruleText(request, "id");
  if (id === undefined) return mapping(`metadata.id (the ${request.action === "update_property" ? "property" : "list"}) is required`);
  if (request.action !== "update_property") return { ok: true, email: contact.email, properties: contact.properties, listId: id };
  const value = renderRuleTemplate(request, "value");
  if (!value.ok) return mapping(value.message);
  if (value.text === undefined) return mapping("metadata.value (the value to set) is required");
  return { ok: true, email: contact.email, properties: { ...contact.properties, [id]: value.text } };
}

async function deliverHubSpot(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  const plan = planHubSpot(request);
  if (!plan.ok) return plan.facts;
  const token = accessTokenOf(request.connection.secrets);
  if (token === undefined) return failedBeforeSending("internal", `connection ${request.connection.id} has no access token`);
  const base = apiBase(context.providers, "hubspot", hubspotApiBase);
  const headers = { Authorization: `Bearer ${token}` };
  const deadline = new AttemptDeadline(request.timeoutMs);

  const upsert = await callProvider(
    {
      method: "POST",
      url: `${base}/crm/v3/objects/contacts/batch/upsert`,
      headers,
      json: { inputs: [{ idProperty: "email", id: plan.email, properties: plan.properties }] },
      timeoutMs: deadline.remainingMs(),
    },
    context,
    request.now,
  );
  const upserted = hubspotFacts("the contact upsert", upsert);
  if (plan.listId === undefined || !isDelivered(upserted)) return deadline.finish(upserted);
  const recordId = upsertedRecordId(upsert.json);
  if (recordId === undefined) {
    return deadline.finish({
      ...upserted,
      providerOutcome: "rejected_server_error",
      message: "HubSpot's upsert answer named no contact id",
    });
  }
  if (deadline.remainingMs() === 0) return deadline.expired("the list membership");

  const change = request.action === "add_to_list" ? "add" : "remove";
  const membership = await callProvider(
    {
      method: "PUT",
      url: `${base}/crm/v3/lists/${encodeURIComponent(plan.listId)}/memberships/${change}`,
      headers,
      json: [recordId],
      timeoutMs: deadline.remainingMs(),
    },
    context,
    request.now,
  );
  return deadline.finish(hubspotFacts(`the list membership ${change}`, membership));
}

function isDelivered(facts: AttemptFacts): boolean {
  return facts.providerOutcome === undefined && facts.httpStatus !== undefined && facts.httpStatus >= 200 && facts.httpStatus < 300;
}

/** `results[0].id` of a batch upsert answer. */
function upsertedRecordId(json: unknown): string | undefined {
  const results = isPlainObject(json) && Array.isArray(json.results) ? json.results : [];
  const first: unknown = results[0];
  const id = isPlainObject(first) ? first.id : undefined;
  return typeof id === "string" && id !== "" ? id : typeof id === "number" ? String(id) : undefined;
}
