import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, ConnectionConfig } from "../destinationPlugin.js";
import type { ConnectionFieldDefinition } from "../integrationDescription.js";
import { apiKeyOf } from "../providers/apiKeySecrets.js";
import { ProviderReadError, readProvider } from "../providers/callProvider.js";
import { apiBase } from "../providers/providerSettings.js";
import { resendApiBase } from "./resendCaller.js";
import { resendContactFields } from "./resendDescription.js";

/** Resend's largest page. */
const pageLimit = 100;
/** A bound on the pages followed, so a misbehaving API cannot keep a catalog read going. */
const maxPages = 20;

/** The account's templates (for `send_email_template`) and segments (for both segment actions). */
export async function resendActionData(connection: ConnectionConfig, context: DeliveryContext): Promise<Record<string, ActionItem[]>> {
  const templates = await listAll(connection, context, "/templates");
  const segments = (await listAll(connection, context, "/segments")).map(segmentItem);
  return { add_to_segment: segments, remove_from_segment: segments, send_email_template: templates.map(templateItem) };
}

/** Resend's contact fields, and the account's custom contact properties as `properties.<key>` (string or number). */
export async function resendFields(connection: ConnectionConfig, context: DeliveryContext): Promise<ConnectionFieldDefinition[]> {
  const properties = await listAll(connection, context, "/contact-properties");
  const custom: ConnectionFieldDefinition[] = [];
  for (const property of properties) {
    if (typeof property.key !== "string") continue;
    custom.push({
      key: `properties.${property.key}`,
      label: property.key,
      type: property.type === "number" ? "number" : "string",
      description: "A custom contact property.",
      provider_meta: { resend_property_id: property.id },
    });
  }
  return [...resendContactFields(), ...custom];
}

type Listed = Record<string, unknown> & { id: string };

/** Every item of a Resend list endpoint (`{ object: "list", has_more, data }`), page by page with `after`. */
async function listAll(connection: ConnectionConfig, context: DeliveryContext, path: string): Promise<Listed[]> {
  const apiKey = apiKeyOf(connection.secrets);
  if (apiKey === undefined) throw new ProviderReadError(`connection ${connection.id} has no stored Resend API key`);
  const items: Listed[] = [];
  let after: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const query = new URLSearchParams({ limit: String(pageLimit), ...(after === undefined ? {} : { after }) });
    const json = await readProvider(
      "Resend",
      {
        method: "GET",
        url: `${apiBase(context.providers, "resend", resendApiBase)}${path}?${query}`,
        headers: { Authorization: `Bearer ${apiKey}` },
        timeoutMs: 10_000,
      },
      context,
    );
    const list = json as { data?: unknown; has_more?: unknown } | null;
    if (list === null || typeof list !== "object" || !Array.isArray(list.data)) {
      throw new ProviderReadError(`Resend answered ${path} without a data array`);
    }
    const listed = list.data.filter((item): item is Listed => typeof item?.id === "string");
    items.push(...listed);
    after = listed.at(-1)?.id;
    if (list.has_more !== true || after === undefined) break;
  }
  return items;
}

function segmentItem(segment: Listed): ActionItem {
  return { id: segment.id, label: typeof segment.name === "string" && segment.name !== "" ? segment.name : segment.id };
}

/** A template by its name; a draft (which Resend cannot send until published) says so. */
function templateItem(template: Listed): ActionItem {
  const name = typeof template.name === "string" && template.name !== "" ? template.name : template.id;
  return { id: template.id, label: template.status === "draft" ? `${name} (draft)` : name };
}
