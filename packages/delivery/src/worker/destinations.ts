import type { ClaimedDelivery } from "@switchyard/db";
import {
  type AttemptFacts,
  type DeliveryContext,
  type DeliveryRequest,
  type NeverReachable,
  type ProviderSettingsByType,
  parseAddressPolicy,
  destinations as registry,
} from "@switchyard/destinations";
import { type CompiledMapping, compileMapping, type MappingIssue, type MappingSchema } from "@switchyard/mapping";
import { createOAuthTokens, type OAuthTokensDeps } from "./oauthRefresh.js";

/** The worker's view of the destination plugins: one attempt of one claimed delivery. */
export interface Destinations {
  deliver(delivery: ClaimedDelivery, context: { readonly secrets: () => unknown; readonly timeoutMs: number }): Promise<AttemptFacts>;
}

/**
 * Destinations through the plugin registry, under the operator's address allow-list, never reaching `never`'s
 * endpoints, with the operator's provider settings (API origins, OAuth apps). Each attempt first applies the
 * connection's default mapping to the payload: a mapping that fails is the attempt's outcome (`mapping`, final,
 * naming the field), and no request is made. With `oauth` (the worker's database and secret box), an OAuth
 * connection's tokens are refreshed around the attempt (`oauthRefresh.ts`).
 */
export function createDestinations(
  allowList: string,
  never?: NeverReachable,
  providers?: ProviderSettingsByType,
  oauth?: Omit<OAuthTokensDeps, "context">,
): Destinations {
  const context: DeliveryContext = { addressPolicy: parseAddressPolicy(allowList, never), ...(providers ? { providers } : {}) };
  const mappings = new MappingCache();
  const tokens = oauth === undefined ? undefined : createOAuthTokens({ ...oauth, context });
  return {
    async deliver(delivery, { secrets: openSecrets, timeoutMs }) {
      const plugin = registry.get(delivery.integration_type);
      if (plugin === undefined) {
        return { failure: "internal", message: `no destination plugin for integration type ${delivery.integration_type}`, durationMs: 0 };
      }
      let secrets: unknown;
      try {
        secrets = openSecrets();
      } catch {
        // Sealed with another encryption key: every instance sharing a database must use the same one.
        return {
          failure: "internal",
          message: "the connection's secrets cannot be decrypted with this instance's encryption key",
          durationMs: 0,
        };
      }
      const mapping = mappings.apply(delivery);
      if (!mapping.ok) return { failure: "mapping", message: mappingFailure(mapping.failure), durationMs: 0 };
      const send = (withSecrets: unknown, withinMs: number) =>
        plugin.deliver(requestOf(delivery, withSecrets, mapping.output, withinMs), context);
      const facts =
        tokens !== undefined && plugin.oauth !== undefined
          ? await tokens.attempt(delivery, plugin, secrets, send, timeoutMs)
          : await send(secrets, timeoutMs);
      return mapping.warnings.length === 0 || facts.message !== undefined
        ? facts
        : { ...facts, message: mappingWarnings(mapping.warnings) };
    },
  };
}

/** What the plugin is handed for one attempt of `delivery`. */
function requestOf(delivery: ClaimedDelivery, secrets: unknown, mapped: Record<string, unknown>, timeoutMs: number): DeliveryRequest {
  return {
    deliveryId: delivery.id,
    attempt: delivery.attempt_count,
    event: {
      id: delivery.event_id,
      workspace: delivery.workspace_id,
      event: delivery.event,
      resource: delivery.resource,
      resource_id: delivery.resource_id,
      createdAt: delivery.event_created_at,
      payload: delivery.payload,
    },
    connection: { id: delivery.connection_id, metadata: delivery.connection_metadata, secrets },
    action: delivery.action,
    rule: { id: delivery.rule_id, metadata: delivery.rule_metadata },
    mapped,
    timeoutMs,
    now: () => new Date(),
  };
}

type Applied =
  | { readonly ok: true; readonly output: Record<string, unknown>; readonly warnings: readonly MappingIssue[] }
  | { readonly ok: false; readonly failure: MappingIssue };

const noFields: Applied = { ok: true, output: {}, warnings: [] };

/** Bounded, as a mapping cache must be: a process seeing more connections than this compiles some twice, no more. */
const maxCachedMappings = 4096;

/** Each connection's mapping compiled once per version, and applied to each delivery's payload. */
class MappingCache {
  private readonly compiled = new Map<string, { readonly version: number; readonly mapping: CompiledMapping }>();

  apply(delivery: ClaimedDelivery): Applied {
    if (delivery.mapping_schema === null || delivery.mapping_schema === undefined) return noFields;
    const version = delivery.mapping_version ?? 0;
    let entry = this.compiled.get(delivery.connection_id);
    if (entry === undefined || entry.version !== version) {
      if (this.compiled.size >= maxCachedMappings) this.compiled.clear();
      entry = { version, mapping: compileMapping(delivery.mapping_schema as MappingSchema) };
      this.compiled.set(delivery.connection_id, entry);
    }
    return entry.mapping.apply(delivery.payload);
  }
}

function mappingFailure(issue: MappingIssue): string {
  return issue.field === ""
    ? `the mapping could not be applied: ${issue.message}`
    : `mapping failed at field "${issue.field}": ${issue.message}`;
}

function mappingWarnings(warnings: readonly MappingIssue[]): string {
  return `mapping left out ${warnings.map((w) => `"${w.field}" (${w.message})`).join(", ")}`;
}
