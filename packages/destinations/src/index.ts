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
  DeliveryRule,
  DestinationPlugin,
  ParseConfigInput,
  ParseConfigResult,
  ProviderOutcome,
} from "./destinationPlugin.js";
export { destinations } from "./destinations.js";
export type {
  ConnectionFieldDefinition,
  IntegrationAction,
  IntegrationActionInput,
  IntegrationAuthentication,
  IntegrationAuthenticationField,
  IntegrationDescription,
  JsonSchema,
} from "./integrationDescription.js";
export { createOwnEndpoints, databaseEndpoint, type OwnEndpoints, ownEndpointsWithDatabase } from "./ownEndpoints.js";
export { parseRetryAfter } from "./parseRetryAfter.js";
export {
  callProvider,
  failedBeforeSending,
  guardAttempt,
  maxCatalogBodyBytes,
  type ProviderAnswer,
  type ProviderCall,
  ProviderReadError,
  readProvider,
} from "./providers/callProvider.js";
export {
  authorizeUrlOf,
  type OAuthClient,
  oauthClientOf,
  pkceChallenge,
  randomOAuthSecret,
  requestTokens,
  type TokenAnswer,
  type TokenFailureKind,
  type TokenGrant,
} from "./providers/oauthFlow.js";
export { accessTokenOf, type OAuthGrantDetails, type OAuthProvider, type OAuthSecrets } from "./providers/oauthProvider.js";
export {
  apiBase,
  type ProviderSettings,
  type ProviderSettingsByType,
  ProviderSettingsError,
  parseProviderSettings,
} from "./providers/providerSettings.js";
export {
  actionOf,
  defaultInputMaxLength,
  type RuleText,
  renderRuleTemplate,
  ruleMetadataProblems,
  ruleText,
} from "./providers/ruleInputs.js";
export { maxResponseBodyBytes } from "./sendHttpRequest.js";
export { defaultSigningSecretGraceMs, generateSigningSecret, rotateSigningSecret } from "./webhook/signingSecret.js";
export { defaultSignatureHeader, type WebhookMetadata, type WebhookSecrets } from "./webhook/webhookConfig.js";
export { webhookDestination } from "./webhook/webhookDestination.js";
