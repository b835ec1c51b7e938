import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, ConnectionConfig } from "../destinationPlugin.js";
import type { ConnectionFieldDefinition } from "../integrationDescription.js";
import { ProviderReadError, readProvider } from "../providers/callProvider.js";
import { type MailchimpApi, mailchimpApi, segment } from "./mailchimpApi.js";
import { emailField, standardMailchimpFields } from "./mailchimpDescription.js";

/** Mailchimp's largest page (`count`). */
const pageSize = 1000;
/** Pages read before giving up on an account's lists: 10 000 audiences is far beyond any plan. */
const maxPages = 10;
/**
 * Audiences whose merge fields make the catalog: one request each, one at a time (Mailchimp allows 10 connections
 * at once). Beyond this many the catalog is a guide, not a limit: a mapping may write any merge tag.
 */
const maxListsForFields = 50;
const catalogTimeoutMs = 15_000;

interface MailchimpList {
  readonly id: string;
  readonly name: string;
}

/** The account's audiences (`GET /lists`, every page), as items of the list actions. */
export async function loadMailchimpLists(connection: ConnectionConfig, context: DeliveryContext): Promise<ActionItem[]> {
  const lists = await readLists(usableApi(connection, context), context);
  return lists.map(({ id, name }) => ({ id, label: name }));
}

/**
 * The member fields a mapping can write: the email, then the union of the merge fields of the account's audiences
 * (a connection's mapping serves every audience its rules name, so its catalog is the account's, not one list's).
 * A tag in several audiences appears once; `provider_meta.lists` says which audiences have it, and it is required
 * only if every audience has it and requires it. An account without audiences gets the fields a new one starts with.
 */
export async function loadMailchimpFields(connection: ConnectionConfig, context: DeliveryContext): Promise<ConnectionFieldDefinition[]> {
  const api = usableApi(connection, context);
  const lists = (await readLists(api, context)).slice(0, maxListsForFields);
  if (lists.length === 0) return [...standardMailchimpFields];
  const byTag = new Map<string, MergeFieldUnion>();
  for (const list of lists) {
    for (const field of await readMergeFields(api, list.id, context)) {
      const union = byTag.get(field.tag) ?? { field, lists: [], requiredIn: [] };
      union.lists.push(list.id);
      if (field.required) union.requiredIn.push(list.id);
      byTag.set(field.tag, union);
    }
  }
  const email = standardMailchimpFields.find((field) => field.key === emailField);
  const merged = [...byTag.values()].map((union) => fieldDefinition(union, lists.length));
  return email === undefined ? merged : [email, ...merged];
}

function usableApi(connection: ConnectionConfig, context: DeliveryContext): MailchimpApi {
  const api = mailchimpApi(connection, context);
  if (api === undefined) throw new ProviderReadError(`connection ${connection.id} has no valid stored Mailchimp config`);
  return api;
}

async function readLists(api: MailchimpApi, context: DeliveryContext): Promise<MailchimpList[]> {
  const lists: MailchimpList[] = [];
  for (let page = 0; page < maxPages; page += 1) {
    const url = `${api.base}/lists?count=${pageSize}&offset=${page * pageSize}&fields=lists.id,lists.name,total_items`;
    const answer = asObject(
      await readProvider("Mailchimp", { method: "GET", url, headers: api.headers, timeoutMs: catalogTimeoutMs }, context),
    );
    const items = arrayOf(answer.lists, "lists");
    for (const item of items) {
      const { id, name } = asObject(item);
      if (typeof id === "string" && id !== "") lists.push({ id, name: typeof name === "string" && name !== "" ? name : id });
    }
    const total = typeof answer.total_items === "number" ? answer.total_items : lists.length;
    if (items.length < pageSize || lists.length >= total) break;
  }
  return lists;
}

interface MergeField {
  readonly tag: string;
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly choices: readonly string[];
}

interface MergeFieldUnion {
  readonly field: MergeField;
  readonly lists: string[];
  readonly requiredIn: string[];
}

async function readMergeFields(api: MailchimpApi, listId: string, context: DeliveryContext): Promise<MergeField[]> {
  const fields = "merge_fields.tag,merge_fields.name,merge_fields.type,merge_fields.required,merge_fields.options.choices";
  const url = `${api.base}/lists/${segment(listId)}/merge-fields?count=${pageSize}&fields=${fields}`;
  const answer = asObject(
    await readProvider("Mailchimp", { method: "GET", url, headers: api.headers, timeoutMs: catalogTimeoutMs }, context),
  );
  return arrayOf(answer.merge_fields, "merge_fields").flatMap((item) => {
    const { tag, name, type, required, options } = asObject(item);
    if (typeof tag !== "string" || tag === "") return [];
    const choices = asObject(options).choices;
    return [
      {
        tag,
        name: typeof name === "string" && name !== "" ? name : tag,
        type: typeof type === "string" ? type : "text",
        required: required === true,
        choices: Array.isArray(choices) ? choices.filter((choice): choice is string => typeof choice === "string") : [],
      },
    ];
  });
}

/** A merge field as a destination field: its Mailchimp type read as ours, what the API accepts for it described. */
function fieldDefinition({ field, lists, requiredIn }: MergeFieldUnion, listCount: number): ConnectionFieldDefinition {
  const required = requiredIn.length === listCount;
  const shape = mergeFieldShape(field);
  return {
    key: field.tag,
    label: field.name,
    ...shape,
    ...(required || shape.constraints !== undefined ? { constraints: { ...shape.constraints, ...(required ? { required } : {}) } } : {}),
    provider_meta: { merge_type: field.type, lists, required_in: requiredIn },
  };
}

function mergeFieldShape(field: MergeField): Pick<ConnectionFieldDefinition, "type" | "description" | "constraints"> {
  switch (field.type) {
    case "number":
      return { type: "number" };
    case "address":
      return { type: "object", description: "An object with addr1, city, state and zip (required), addr2 and country (optional)." };
    case "phone":
      return { type: "string", constraints: { format: "phone" } };
    case "date":
      return { type: "date" };
    case "birthday":
      return { type: "string", description: "MM/DD." };
    case "url":
    case "imageurl":
      return { type: "string", constraints: { format: "url" } };
    case "radio":
    case "dropdown":
      return field.choices.length > 0 ? { type: "enum", constraints: { allowed_values: field.choices } } : { type: "string" };
    default:
      return { type: "string" };
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function arrayOf(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new ProviderReadError(`Mailchimp answered without a ${name} array`);
  return value;
}
