import type { DestinationPlugin } from "./destinationPlugin.js";
import { discordDestination } from "./discord/discordDestination.js";
import { slackDestination } from "./slack/slackDestination.js";
import { webhookDestination } from "./webhook/webhookDestination.js";

/** Every destination plugin by integration type id (the Meshes ids: `webhook`, `slack`, `hubspot`, ...). */
export const destinations: ReadonlyMap<string, DestinationPlugin> = new Map<string, DestinationPlugin>([
  [webhookDestination.type, webhookDestination],
  [slackDestination.type, slackDestination],
  [discordDestination.type, discordDestination],
]);
