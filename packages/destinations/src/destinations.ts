import type { DestinationPlugin } from "./destinationPlugin.js";
import { discordDestination } from "./discord/discordDestination.js";
import { hubspotDestination } from "./hubspot/hubspotDestination.js";
import { mailchimpDestination } from "./mailchimp/mailchimpDestination.js";
import { mailerliteDestination } from "./mailerlite/mailerliteDestination.js";
import { resendDestination } from "./resend/resendDestination.js";
import { salesforceDestination } from "./salesforce/salesforceDestination.js";
import { sendgridDestination } from "./sendgrid/sendgridDestination.js";
import { slackDestination } from "./slack/slackDestination.js";
import { webhookDestination } from "./webhook/webhookDestination.js";

/** Every destination plugin by integration type id (the Meshes ids: `webhook`, `slack`, `hubspot`, ...). */
export const destinations: ReadonlyMap<string, DestinationPlugin> = new Map<string, DestinationPlugin>([
  [webhookDestination.type, webhookDestination],
  [resendDestination.type, resendDestination],
  [sendgridDestination.type, sendgridDestination],
  [mailchimpDestination.type, mailchimpDestination],
  [mailerliteDestination.type, mailerliteDestination],
  [slackDestination.type, slackDestination],
  [discordDestination.type, discordDestination],
  [hubspotDestination.type, hubspotDestination],
  [salesforceDestination.type, salesforceDestination],
]);
