import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { AttemptDeadline } from "../providers/attemptDeadline.js";
import { callProvider, failedBeforeSending, guardAttempt, type ProviderAnswer } from "../providers/callProvider.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { accessTokenOf, type OAuthSecrets } from "../providers/oauthProvider.js";
import { renderRuleTemplate, ruleText } from "../providers/ruleInputs.js";
import { salesforceFacts } from "./salesforceAnswers.js";
import { loadSalesforceActionData, loadSalesforceFields, salesforceBase } from "./salesforceCatalog.js";
import { parseSalesforceConfig, type SalesforceMetadata } from "./salesforceConfig.js";
import { type ContactFields, contactFields, missingForCreate } from "./salesforceContact.js";
import { salesforceApiVersion, salesforceDefaultMapping, salesforceDescription, salesforceOAuth } from "./salesforceDescription.js";
import { soqlString } from "./soql.js";

/**
 * Salesforce: every action first upserts the Contact, matched by Email (a SOQL query, the oldest match if several),
 * updated with the mapped fields (PATCH) or created (POST; Salesforce requires LastName). `update_property` sends its
 * field in that same write; the campaign actions then create or delete the CampaignMember.
 */
export const salesforceDestination: DestinationPlugin<SalesforceMetadata, OAuthSecrets> = {
  type: "salesforce",
  description: salesforceDescription,
  parseConfig: parseSalesforceConfig,
  deliver: (request, context) => guardAttempt(() => deliverSalesforce(request, context)),
  loadActionData: loadSalesforceActionData,
  loadFields: loadSalesforceFields,
  defaultMapping: salesforceDefaultMapping,
  oauth: salesforceOAuth,
};

type Plan = (ContactFields & { readonly ok: true; readonly campaignId?: string }) | { readonly ok: false; readonly facts: AttemptFacts };

function planSalesforce(request: DeliveryRequest): Plan {
  const mapping = (message: string): Plan => ({ ok: false, facts: failedBeforeSending("mapping", message) });
  if (!salesforceDescription.actions.some((action) => action.key === request.action)) {
    return mapping(`Salesforce has no action "${request.action}"`);
  }
  const contact = contactFields(request.mapped);
  if (!contact.ok) return mapping(contact.message);
  const id = ruleText(request, "id");
  if (id === undefined) return mapping(`metadata.id (the ${request.action === "update_property" ? "field" : "campaign"}) is required`);
  if (request.action !== "update_property") return { ...contact, campaignId: id };
  const value = renderRuleTemplate(request, "value");
  if (!value.ok) return mapping(value.message);
  if (value.text === undefined) return mapping("metadata.value (the value to set) is required");
  return { ...contact, fields: { ...contact.fields, [id]: value.text } };
}

/** The requests of one attempt: the org's API under one deadline. */
class Session {
  constructor(
    private readonly request: DeliveryRequest,
    private readonly context: DeliveryContext,
    private readonly base: string,
    private readonly token: string,
    readonly deadline: AttemptDeadline,
  ) {}

  call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, json?: unknown): Promise<ProviderAnswer> {
    return callProvider(
      {
        method,
        url: `${this.base}/services/data/${salesforceApiVersion}${path}`,
        headers: { Authorization: `Bearer ${this.token}` },
        ...(json === undefined ? {} : { json }),
        timeoutMs: this.deadline.remainingMs(),
      },
      this.context,
      this.request.now,
    );
  }

  query(soql: string): Promise<ProviderAnswer> {
    return this.call("GET", `/query?q=${encodeURIComponent(soql)}`);
  }
}

async function deliverSalesforce(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  const plan = planSalesforce(request);
  if (!plan.ok) return plan.facts;
  const token = accessTokenOf(request.connection.secrets);
  if (token === undefined) return failedBeforeSending("internal", `connection ${request.connection.id} has no access token`);
  const base = salesforceBase(request.connection, context);
  if (base === undefined) {
    return failedBeforeSending(
      "internal",
      `connection ${request.connection.id} has no instance_url and SWITCHYARD_SALESFORCE_API_URL is not set`,
    );
  }
  const session = new Session(request, context, base, token, new AttemptDeadline(request.timeoutMs));
  const contact = await upsertContact(session, plan.email, plan.fields);
  if (!contact.ok || plan.campaignId === undefined) return session.deadline.finish(contact.facts);
  if (session.deadline.remainingMs() === 0) return session.deadline.expired("the campaign membership");
  const facts =
    request.action === "add_to_campaign"
      ? await addToCampaign(session, plan.campaignId, contact.contactId)
      : await removeFromCampaign(session, plan.campaignId, contact.contactId);
  return session.deadline.finish(facts);
}

type StepResult =
  | { readonly ok: true; readonly contactId: string; readonly facts: AttemptFacts }
  | { readonly ok: false; readonly facts: AttemptFacts };

async function upsertContact(session: Session, email: string, fields: Readonly<Record<string, unknown>>): Promise<StepResult> {
  const query = await session.query(`SELECT Id FROM Contact WHERE Email = ${soqlString(email)} ORDER BY CreatedDate ASC LIMIT 1`);
  const found = salesforceFacts("the Contact query", query);
  if (!succeeded(found)) return { ok: false, facts: found };
  const existing = firstRecordId(query.json);
  if (session.deadline.remainingMs() === 0) return { ok: false, facts: session.deadline.expired("the Contact write") };
  if (existing !== undefined) {
    const update = salesforceFacts(
      "the Contact update",
      await session.call("PATCH", `/sobjects/Contact/${encodeURIComponent(existing)}`, fields),
    );
    return succeeded(update) ? { ok: true, contactId: existing, facts: update } : { ok: false, facts: update };
  }
  const missing = missingForCreate(fields);
  if (missing !== undefined) {
    return {
      ok: false,
      facts: failedBeforeSending("mapping", `the mapping produced no "${missing}", which Salesforce requires to create a Contact`),
    };
  }
  const create = await session.call("POST", "/sobjects/Contact", fields);
  const created = salesforceFacts("the Contact create", create);
  if (!succeeded(created)) return { ok: false, facts: created };
  const id = isPlainObject(create.json) && typeof create.json.id === "string" ? create.json.id : undefined;
  if (id === undefined)
    return {
      ok: false,
      facts: { ...created, providerOutcome: "rejected_server_error", message: "Salesforce's create answer named no id" },
    };
  return { ok: true, contactId: id, facts: created };
}

async function addToCampaign(session: Session, campaignId: string, contactId: string): Promise<AttemptFacts> {
  const answer = await session.call("POST", "/sobjects/CampaignMember", { CampaignId: campaignId, ContactId: contactId });
  return salesforceFacts("the campaign member create", answer, { duplicateIsDone: true });
}

async function removeFromCampaign(session: Session, campaignId: string, contactId: string): Promise<AttemptFacts> {
  const query = await session.query(
    `SELECT Id FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId)} AND ContactId = ${soqlString(contactId)} LIMIT 1`,
  );
  const found = salesforceFacts("the campaign member query", query);
  const memberId = firstRecordId(query.json);
  if (!succeeded(found)) return found;
  if (memberId === undefined) return { ...found, message: "the Contact is not a member of the campaign: nothing to remove" };
  if (session.deadline.remainingMs() === 0) return session.deadline.expired("the campaign member delete");
  const removed = await session.call("DELETE", `/sobjects/CampaignMember/${encodeURIComponent(memberId)}`);
  return salesforceFacts("the campaign member delete", removed, { notFoundIsDone: true });
}

function succeeded(facts: AttemptFacts): boolean {
  if (facts.providerOutcome !== undefined) return facts.providerOutcome === "delivered";
  return facts.httpStatus !== undefined && facts.httpStatus >= 200 && facts.httpStatus < 300;
}

/** `records[0].Id` of a query answer. */
function firstRecordId(json: unknown): string | undefined {
  const records = isPlainObject(json) && Array.isArray(json.records) ? json.records : [];
  const first: unknown = records[0];
  return isPlainObject(first) && typeof first.Id === "string" && first.Id !== "" ? first.Id : undefined;
}
