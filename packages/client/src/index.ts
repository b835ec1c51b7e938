export {
  type EmitBatchResult,
  EventsClient,
  type EventsClientOptions,
  maxEventsPerRequest,
  type RetryOptions,
  SwitchyardApiError,
} from "./eventsClient.js";
export { type Client, createClient, createConfig } from "./gen/client/index.js";
export * from "./gen/index.js";
export { type MachineCredentials, machineTokenLifetimeSeconds, mintMachineToken } from "./machineToken.js";
