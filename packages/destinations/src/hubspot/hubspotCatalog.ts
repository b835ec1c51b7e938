import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, ConnectionConfig } from "../destinationPlugin.js";
import type { ConnectionFieldDefinition } from "../integrationDescription.js";
import { ProviderReadError, readProvider } from "../providers/callProvider.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { accessTokenOf } from "../providers/oauthProvider.js";
import { apiBase } from "../providers/providerSettings.js";
import { hubspotApiBase } from "./hubspotDescription.js";

const readTimeoutMs = 15_000;
/** HubSpot's largest page of lists. */
const listPageSize = 500;
/** Pages read at most (10,000 lists): a picker needs no more, and the read stays bounded. */
const maxListPages = 20;
/** HubSpot's objectTypeId of contacts. */
const contactObjectTypeId = "0-1";

interface Reader {
  read(method: "GET" | "POST", path: string, json?: unknown): Promise<unknown>;
}

function readerFor(connection: ConnectionConfig, context: DeliveryContext): Reader {
  const token = accessTokenOf(connection.secrets);
  if (token === undefined) throw new ProviderReadError("the HubSpot connection has no access token");
  const base = apiBase(context.providers, "hubspot", hubspotApiBase);
  return {
    read: (method, path, json) =>
      readProvider(
        "HubSpot",
        { method, url: `${base}${path}`, headers: { Authorization: `Bearer ${token}` }, timeoutMs: readTimeoutMs, json },
        context,
      ),
  };
}

/** Lists for the list actions (static ones: only MANUAL and SNAPSHOT lists take API memberships); writable properties for update_property. */
export async function loadHubSpotActionData(
  connection: ConnectionConfig,
  context: DeliveryContext,
): Promise<Readonly<Record<string, readonly ActionItem[]>>> {
  const reader = readerFor(connection, context);
  const [lists, properties] = await Promise.all([contactLists(reader), contactProperties(reader)]);
  const writable = properties.filter((p) => !isReadOnly(p) && p.hidden !== true);
  return { add_to_list: lists, remove_from_list: lists, update_property: writable.map(propertyItem) };
}

/** The account's contact properties (`GET /crm/v3/properties/contacts`) as the fields a mapping can write. */
export async function loadHubSpotFields(
  connection: ConnectionConfig,
  context: DeliveryContext,
): Promise<readonly ConnectionFieldDefinition[]> {
  return (await contactProperties(readerFor(connection, context))).map(fieldOf);
}

async function contactLists(reader: Reader): Promise<ActionItem[]> {
  const items: ActionItem[] = [];
  let offset = 0;
  for (let page = 0; page < maxListPages; page++) {
    const answer = await reader.read("POST", "/crm/v3/lists/search", {
      query: "",
      count: listPageSize,
      offset,
      processingTypes: ["MANUAL", "SNAPSHOT"],
    });
    if (!isPlainObject(answer) || !Array.isArray(answer.lists)) throw new ProviderReadError("HubSpot's list search answer has no lists");
    for (const list of answer.lists) {
      if (!isPlainObject(list) || (list.objectTypeId !== undefined && list.objectTypeId !== contactObjectTypeId)) continue;
      const id = typeof list.listId === "number" ? String(list.listId) : list.listId;
      if (typeof id === "string") items.push({ id, label: typeof list.name === "string" ? list.name : id });
    }
    if (answer.hasMore !== true || typeof answer.offset !== "number" || answer.offset <= offset) break;
    offset = answer.offset;
  }
  return items;
}

/** One contact property as HubSpot describes it (the fields read here). */
interface HubSpotProperty {
  readonly name: string;
  readonly label?: string;
  readonly description?: string;
  readonly type?: string;
  readonly fieldType?: string;
  readonly hidden?: boolean;
  readonly calculated?: boolean;
  readonly hasUniqueValue?: boolean;
  readonly options?: readonly { readonly label?: string; readonly value?: string; readonly hidden?: boolean }[];
  readonly modificationMetadata?: { readonly readOnlyValue?: boolean };
}

async function contactProperties(reader: Reader): Promise<HubSpotProperty[]> {
  const answer = await reader.read("GET", "/crm/v3/properties/contacts");
  if (!isPlainObject(answer) || !Array.isArray(answer.results)) throw new ProviderReadError("HubSpot's properties answer has no results");
  return answer.results.filter((p): p is HubSpotProperty => isPlainObject(p) && typeof p.name === "string" && p.name !== "");
}

function isReadOnly(property: HubSpotProperty): boolean {
  return property.modificationMetadata?.readOnlyValue === true || property.calculated === true;
}

function optionValues(property: HubSpotProperty): string[] {
  return (property.options ?? []).filter((o) => o.hidden !== true && typeof o.value === "string").map((o) => o.value as string);
}

function propertyItem(property: HubSpotProperty): ActionItem {
  const options = (property.options ?? [])
    .filter((o) => o.hidden !== true && typeof o.value === "string")
    .map((o) => ({ label: o.label ?? (o.value as string), value: o.value as string }));
  return { id: property.name, label: property.label ?? property.name, ...(options.length > 0 ? { options } : {}) };
}

/** HubSpot's `type` (and `fieldType` where it tells more) as one of Meshes' field types. */
function fieldType(property: HubSpotProperty): ConnectionFieldDefinition["type"] {
  switch (property.type) {
    case "string":
    case "phone_number":
      return "string";
    case "number":
      return "number";
    case "bool":
      return "boolean";
    case "date":
      return "date";
    case "datetime":
      return "datetime";
    case "enumeration":
      return property.fieldType === "checkbox" ? "multi_enum" : property.fieldType === "booleancheckbox" ? "boolean" : "enum";
    case "json":
      return "json";
    default:
      return "unknown";
  }
}

function fieldFormat(property: HubSpotProperty): "email" | "phone" | undefined {
  if (property.name === "email" || property.fieldType === "email") return "email";
  if (property.type === "phone_number" || property.fieldType === "phonenumber") return "phone";
  return undefined;
}

function fieldOf(property: HubSpotProperty): ConnectionFieldDefinition {
  const type = fieldType(property);
  const format = fieldFormat(property);
  const allowed = type === "enum" || type === "multi_enum" ? optionValues(property) : [];
  const constraints = {
    ...(format === undefined ? {} : { format }),
    ...(property.name === "email" ? { required: true } : {}),
    ...(isReadOnly(property) ? { read_only: true } : {}),
    ...(allowed.length > 0 ? { allowed_values: allowed } : {}),
  };
  return {
    key: property.name,
    ...(property.label === undefined ? {} : { label: property.label }),
    type,
    ...(property.description ? { description: property.description } : {}),
    ...(Object.keys(constraints).length > 0 ? { constraints } : {}),
    provider_meta: {
      type: property.type ?? null,
      field_type: property.fieldType ?? null,
      hidden: property.hidden === true,
      unique: property.hasUniqueValue === true,
    },
  };
}
