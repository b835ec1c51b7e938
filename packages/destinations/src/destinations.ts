import type { DestinationPlugin } from "./destinationPlugin.js";
import { hubspotDestination } from "./hubspot/hubspotDestination.js";
import { salesforceDestination } from "./salesforce/salesforceDestination.js";
import { webhookDestination } from "./webhook/webhookDestination.js";

/** Every destination plugin by integration type id (the Meshes ids: `webhook`, `slack`, `hubspot`, ...). */
export const destinations: ReadonlyMap<string, DestinationPlugin> = new Map<string, DestinationPlugin>([
  [webhookDestination.type, webhookDestination],
  [hubspotDestination.type, hubspotDestination],
  [salesforceDestination.type, salesforceDestination],
]);
