import { createHash } from "node:crypto";
import type { DeliveryContext } from "../deliveryContext.js";
import type { ConnectionConfig } from "../destinationPlugin.js";
import { apiKeyOf } from "../providers/apiKeySecrets.js";
import { apiBase } from "../providers/providerSettings.js";

/** How one connection reaches the Marketing API: its base URL and the headers that authenticate it. */
export interface MailchimpApi {
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The connection's API: `https://{dc}.api.mailchimp.com/3.0` (or the operator's `SWITCHYARD_MAILCHIMP_API_URL`,
 * which replaces the whole base), authenticated as Mailchimp documents for API keys: HTTP Basic with any user name
 * and the key as the password (Bearer is for OAuth access tokens). Undefined when the stored config is unusable.
 */
export function mailchimpApi(connection: ConnectionConfig, context: DeliveryContext): MailchimpApi | undefined {
  const apiKey = apiKeyOf(connection.secrets);
  const metadata = connection.metadata as { data_center?: unknown } | null;
  const dataCenter = metadata?.data_center;
  if (apiKey === undefined || typeof dataCenter !== "string") return undefined;
  const base = apiBase(context.providers, "mailchimp", `https://${dataCenter}.api.mailchimp.com/3.0`);
  return { base, headers: { Authorization: `Basic ${Buffer.from(`switchyard:${apiKey}`, "utf8").toString("base64")}` } };
}

/** A member's id in its audience: the MD5 of the lower-cased email, as Mailchimp computes it. */
export function subscriberHash(email: string): string {
  return createHash("md5").update(email.toLowerCase(), "utf8").digest("hex");
}

/** A path segment of an id the rule or the account gave (an audience id), never able to leave its segment. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}

/**
 * What a Mailchimp error answer says, for the attempt's message: its problem `title` ("Invalid Resource", "Forgotten
 * Email Not Subscribed"...) and the names of the fields it lists. Its `detail` is left out: it often quotes the email.
 */
export function mailchimpProblem(status: number, json: unknown): string {
  const problem = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  const title = typeof problem.title === "string" ? problem.title : "an error";
  const fields = Array.isArray(problem.errors)
    ? problem.errors.flatMap((error) => {
        const field = typeof error === "object" && error !== null ? (error as Record<string, unknown>).field : undefined;
        return typeof field === "string" && field !== "" ? [field] : [];
      })
    : [];
  const named = fields.length > 0 ? ` (fields: ${[...new Set(fields)].slice(0, 10).join(", ")})` : "";
  return `Mailchimp answered ${status} ${title}${named}`;
}
