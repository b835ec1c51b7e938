import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, ConnectionConfig } from "../destinationPlugin.js";
import type { ConnectionFieldDefinition } from "../integrationDescription.js";
import { ProviderReadError, readProvider } from "../providers/callProvider.js";
import { type MailerliteApi, mailerliteApi } from "./mailerliteApi.js";
import { emailField, standardMailerliteFields } from "./mailerliteDescription.js";

/** Items per page asked for. */
const pageSize = 100;
/** Pages read at most: an account has at most 1000 groups, and far fewer fields. */
const maxPages = 20;
const catalogTimeoutMs = 15_000;

/** The account's groups (`GET /groups`, every page), as items of the group actions. */
export async function loadMailerliteGroups(connection: ConnectionConfig, context: DeliveryContext): Promise<ActionItem[]> {
  const groups = await readPages(usableApi(connection, context), "groups", context);
  return groups.flatMap((group) => {
    const id = idOf(group.id);
    return id === undefined ? [] : [{ id, label: typeof group.name === "string" && group.name !== "" ? group.name : id }];
  });
}

/**
 * The subscriber fields a mapping can write: the email, then the account's fields (`GET /fields`: the defaults such
 * as `name` and `last_name`, and the custom ones), each by its `key`.
 */
export async function loadMailerliteFields(connection: ConnectionConfig, context: DeliveryContext): Promise<ConnectionFieldDefinition[]> {
  const fields = await readPages(usableApi(connection, context), "fields", context);
  const email = standardMailerliteFields.find((field) => field.key === emailField);
  const defined = fields.flatMap((field): ConnectionFieldDefinition[] => {
    if (typeof field.key !== "string" || field.key === "" || field.key === emailField) return [];
    const label = typeof field.name === "string" && field.name !== "" ? field.name : field.key;
    const type = field.type === "number" ? "number" : field.type === "date" ? "date" : "string";
    const id = idOf(field.id);
    return [{ key: field.key, label, type, provider_meta: { field_type: field.type, ...(id === undefined ? {} : { id }) } }];
  });
  return email === undefined ? defined : [email, ...defined];
}

function usableApi(connection: ConnectionConfig, context: DeliveryContext): MailerliteApi {
  const api = mailerliteApi(connection, context);
  if (api === undefined) throw new ProviderReadError(`connection ${connection.id} has no valid stored MailerLite config`);
  return api;
}

/** Every page of a paged list (`?limit=&page=`, `meta.last_page`). */
async function readPages(api: MailerliteApi, resource: "groups" | "fields", context: DeliveryContext): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let page = 1; page <= maxPages; page += 1) {
    const url = `${api.base}/${resource}?limit=${pageSize}&page=${page}`;
    const answer = asObject(
      await readProvider("MailerLite", { method: "GET", url, headers: api.headers, timeoutMs: catalogTimeoutMs }, context),
    );
    if (!Array.isArray(answer.data)) throw new ProviderReadError(`MailerLite answered ${resource} without a data array`);
    items.push(...answer.data.map(asObject));
    const lastPage = asObject(answer.meta).last_page;
    if (answer.data.length === 0 || typeof lastPage !== "number" || page >= lastPage) break;
  }
  return items;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return typeof value === "string" && value !== "" ? value : undefined;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
