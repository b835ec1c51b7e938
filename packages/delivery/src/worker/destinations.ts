import type { ClaimedDelivery } from "@switchyard/db";
import { type AttemptFacts, type NeverReachable, parseAddressPolicy, destinations as registry } from "@switchyard/destinations";

/** The worker's view of the destination plugins: one attempt of one claimed delivery. */
export interface Destinations {
  deliver(delivery: ClaimedDelivery, context: { readonly secrets: () => unknown; readonly timeoutMs: number }): Promise<AttemptFacts>;
}

/** Destinations through the plugin registry, under the operator's address allow-list, never reaching `never`'s endpoints. */
export function createDestinations(allowList: string, never?: NeverReachable): Destinations {
  const addressPolicy = parseAddressPolicy(allowList, never);
  return {
    async deliver(delivery, context) {
      const plugin = registry.get(delivery.integration_type);
      if (plugin === undefined) {
        return { failure: "internal", message: `no destination plugin for integration type ${delivery.integration_type}`, durationMs: 0 };
      }
      let secrets: unknown;
      try {
        secrets = context.secrets();
      } catch {
        // Sealed with another encryption key: every instance sharing a database must use the same one.
        return {
          failure: "internal",
          message: "the connection's secrets cannot be decrypted with this instance's encryption key",
          durationMs: 0,
        };
      }
      return plugin.deliver(
        {
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
          timeoutMs: context.timeoutMs,
          now: () => new Date(),
        },
        { addressPolicy },
      );
    },
  };
}
