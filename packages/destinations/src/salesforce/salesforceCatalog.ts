import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, ConnectionConfig } from "../destinationPlugin.js";
import type { ConnectionFieldDefinition } from "../integrationDescription.js";
import { ProviderReadError, readProvider } from "../providers/callProvider.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { accessTokenOf } from "../providers/oauthProvider.js";
import { salesforceApiVersion } from "./salesforceDescription.js";

const readTimeoutMs = 15_000;

/** The org's API origin: the operator's `SWITCHYARD_SALESFORCE_API_URL` if set, else the connection's `instance_url`. */
export function salesforceBase(connection: ConnectionConfig, context: DeliveryContext): string | undefined {
  const configured = context.providers?.get("salesforce")?.apiUrl;
  if (configured !== undefined) return configured;
  const secrets = connection.secrets;
  const instanceUrl = isPlainObject(secrets) ? secrets.instance_url : undefined;
  return typeof instanceUrl === "string" && instanceUrl !== "" ? instanceUrl : undefined;
}

function readerFor(connection: ConnectionConfig, context: DeliveryContext): (path: string) => Promise<unknown> {
  const token = accessTokenOf(connection.secrets);
  if (token === undefined) throw new ProviderReadError("the Salesforce connection has no access token");
  const base = salesforceBase(connection, context);
  if (base === undefined) throw new ProviderReadError("the Salesforce connection has no instance_url");
  return (path) =>
    readProvider(
      "Salesforce",
      {
        method: "GET",
        url: `${base}/services/data/${salesforceApiVersion}${path}`,
        headers: { Authorization: `Bearer ${token}` },
        timeoutMs: readTimeoutMs,
      },
      context,
    );
}

/** Active campaigns for the campaign actions (at most 2,000, one query page); updateable Contact fields for update_property. */
export async function loadSalesforceActionData(
  connection: ConnectionConfig,
  context: DeliveryContext,
): Promise<Readonly<Record<string, readonly ActionItem[]>>> {
  const read = readerFor(connection, context);
  const soql = "SELECT Id, Name FROM Campaign WHERE IsActive = true ORDER BY Name LIMIT 2000";
  const [campaigns, fields] = await Promise.all([read(`/query?q=${encodeURIComponent(soql)}`), describeContact(read)]);
  if (!isPlainObject(campaigns) || !Array.isArray(campaigns.records))
    throw new ProviderReadError("Salesforce's campaign query answer has no records");
  const items = campaigns.records
    .filter(isPlainObject)
    .flatMap((record) =>
      typeof record.Id === "string" ? [{ id: record.Id, label: typeof record.Name === "string" ? record.Name : record.Id }] : [],
    );
  return {
    add_to_campaign: items,
    remove_from_campaign: items,
    update_property: fields.filter((field) => field.updateable === true).map(fieldItem),
  };
}

/** The org's Contact fields (`GET /sobjects/Contact/describe`) as the fields a mapping can write. */
export async function loadSalesforceFields(
  connection: ConnectionConfig,
  context: DeliveryContext,
): Promise<readonly ConnectionFieldDefinition[]> {
  return (await describeContact(readerFor(connection, context))).map(fieldOf);
}

/** One Contact field as describe answers it (the parts read here). */
interface DescribedField {
  readonly name: string;
  readonly label?: string;
  readonly type?: string;
  readonly length?: number;
  readonly updateable?: boolean;
  readonly createable?: boolean;
  readonly nillable?: boolean;
  readonly defaultedOnCreate?: boolean;
  readonly inlineHelpText?: string | null;
  readonly picklistValues?: readonly { readonly value?: string; readonly label?: string; readonly active?: boolean }[];
}

async function describeContact(read: (path: string) => Promise<unknown>): Promise<DescribedField[]> {
  const answer = await read("/sobjects/Contact/describe");
  if (!isPlainObject(answer) || !Array.isArray(answer.fields))
    throw new ProviderReadError("Salesforce's Contact describe answer has no fields");
  return answer.fields.filter((f): f is DescribedField => isPlainObject(f) && typeof f.name === "string" && f.name !== "");
}

function picklist(field: DescribedField): { label: string; value: string }[] {
  return (field.picklistValues ?? [])
    .filter((p) => p.active !== false && typeof p.value === "string")
    .map((p) => ({ label: p.label ?? (p.value as string), value: p.value as string }));
}

function fieldItem(field: DescribedField): ActionItem {
  const options = picklist(field);
  return { id: field.name, label: field.label ?? field.name, ...(options.length > 0 ? { options } : {}) };
}

const types: Readonly<Record<string, ConnectionFieldDefinition["type"]>> = {
  string: "string",
  textarea: "string",
  email: "string",
  phone: "string",
  url: "string",
  id: "string",
  reference: "string",
  combobox: "string",
  encryptedstring: "string",
  time: "string",
  boolean: "boolean",
  int: "number",
  long: "number",
  double: "number",
  currency: "number",
  percent: "number",
  date: "date",
  datetime: "datetime",
  picklist: "enum",
  multipicklist: "multi_enum",
  address: "object",
  location: "object",
};

const formats: Readonly<Record<string, "email" | "phone" | "url">> = { email: "email", phone: "phone", url: "url" };

function fieldOf(field: DescribedField): ConnectionFieldDefinition {
  const sfType = field.type ?? "anyType";
  const type = types[sfType] ?? "unknown";
  const format = formats[sfType];
  const allowed = type === "enum" || type === "multi_enum" ? picklist(field).map((p) => p.value) : [];
  const required = field.createable === true && field.nillable === false && field.defaultedOnCreate !== true && sfType !== "boolean";
  const constraints = {
    ...(format === undefined ? {} : { format }),
    ...(required || field.name === "Email" ? { required: true } : {}),
    ...(field.updateable !== true && field.createable !== true ? { read_only: true } : {}),
    ...(type === "string" && typeof field.length === "number" && field.length > 0 ? { max_length: field.length } : {}),
    ...(allowed.length > 0 ? { allowed_values: allowed } : {}),
  };
  return {
    key: field.name,
    ...(field.label === undefined ? {} : { label: field.label }),
    type,
    ...(typeof field.inlineHelpText === "string" && field.inlineHelpText !== "" ? { description: field.inlineHelpText } : {}),
    ...(Object.keys(constraints).length > 0 ? { constraints } : {}),
    provider_meta: { type: sfType, updateable: field.updateable === true, createable: field.createable === true },
  };
}
