import { type AddressPolicy, parseAddressPolicy } from "../addressPolicy.js";
import type { DeliveryContext } from "../deliveryContext.js";
import type { DeliveryEvent, DeliveryRequest } from "../destinationPlugin.js";
import type { ProviderSettings } from "../providers/providerSettings.js";

/** The address policy of plugin tests: the loopback fakes are allowed, as an operator allows a local address. */
export const loopbackPolicy: AddressPolicy = parseAddressPolicy("127.0.0.1/32");

/** A delivery context whose provider `type` is served by a local fake at `origin` (its API, and its OAuth endpoints if given). */
export function fakeProviderContext(type: string, settings: ProviderSettings): DeliveryContext {
  return { addressPolicy: loopbackPolicy, providers: new Map([[type, settings]]) };
}

export const sampleEvent: DeliveryEvent = {
  id: "0190a7a0-0000-7000-8000-000000000001",
  workspace: "0190a7a0-0000-7000-8000-0000000000aa",
  event: "contact.created",
  resource: "contact",
  resource_id: "c_42",
  createdAt: new Date("2026-12-01T10:00:00.000Z"),
  payload: { email: "ada@example.com", first_name: "Ada", last_name: "Lovelace", name: "Ada Lovelace", plan: { tier: "pro" } },
};

/** One attempt's request for a plugin test: the rule's metadata (with `action`), the connection's config and the mapped fields. */
export function deliveryRequestFor(input: {
  readonly action: string;
  readonly ruleMetadata?: Readonly<Record<string, unknown>>;
  readonly metadata: unknown;
  readonly secrets: unknown;
  readonly mapped?: Readonly<Record<string, unknown>>;
  readonly payload?: Record<string, unknown>;
  readonly timeoutMs?: number;
}): DeliveryRequest {
  return {
    deliveryId: "0190a7a0-0000-7000-8000-0000000000de",
    attempt: 1,
    event: input.payload === undefined ? sampleEvent : { ...sampleEvent, payload: input.payload },
    connection: { id: "0190a7a0-0000-7000-8000-0000000000c0", metadata: input.metadata, secrets: input.secrets },
    action: input.action,
    rule: { id: "0190a7a0-0000-7000-8000-0000000000f0", metadata: { action: input.action, ...input.ruleMetadata } },
    mapped: input.mapped ?? {},
    timeoutMs: input.timeoutMs ?? 5_000,
    now: () => new Date(),
  };
}
