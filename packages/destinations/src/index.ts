export {
  type AddressPolicy,
  type AddressVerdict,
  InvalidAllowListError,
  type NeverReachable,
  parseAddressPolicy,
} from "./addressPolicy.js";
export { type DeliveryContext, type HostLookup, type ResolvedAddress, systemLookup } from "./deliveryContext.js";
export type {
  ActionItem,
  AttemptFacts,
  AttemptFailure,
  ConfigError,
  ConnectionConfig,
  DeliveryEvent,
  DeliveryRequest,
  DestinationPlugin,
  ParseConfigInput,
  ParseConfigResult,
} from "./destinationPlugin.js";
export { destinations } from "./destinations.js";
export type {
  ConnectionFieldDefinition,
  IntegrationAction,
  IntegrationAuthentication,
  IntegrationAuthenticationField,
  IntegrationDescription,
  JsonSchema,
} from "./integrationDescription.js";
export { createOwnEndpoints, databaseEndpoint, type OwnEndpoints, ownEndpointsWithDatabase } from "./ownEndpoints.js";
export { parseRetryAfter } from "./parseRetryAfter.js";
export { maxResponseBodyBytes } from "./sendHttpRequest.js";
export { defaultSigningSecretGraceMs, generateSigningSecret, rotateSigningSecret } from "./webhook/signingSecret.js";
export { defaultSignatureHeader, type WebhookMetadata, type WebhookSecrets } from "./webhook/webhookConfig.js";
export { webhookDestination } from "./webhook/webhookDestination.js";
