import type { MappingSchema } from "@switchyard/mapping";
import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { type ApiKeyMetadata, type ApiKeySecrets, apiKeyOf, parseApiKeyConfig } from "../providers/apiKeySecrets.js";
import { failedBeforeSending, guardAttempt } from "../providers/callProvider.js";
import { contactMapping } from "../providers/contactMapping.js";
import { noSuchAction } from "../providers/noSuchAction.js";
import { resendCaller } from "./resendCaller.js";
import { resendActionData, resendFields } from "./resendCatalog.js";
import { resendDescription, resendKeyFormat } from "./resendDescription.js";
import { deliverEmail } from "./resendEmail.js";
import { deliverSegmentAction } from "./resendSegments.js";

/** The contact's email (needed by every action) and its names (optional) from the payload Meshes documents. */
const defaultMapping: MappingSchema = contactMapping("email", { first_name: "first_name", last_name: "last_name" });

/** Resend: `send_email_template`, `send_email`, `add_to_segment` and `remove_from_segment`. */
export const resendDestination: DestinationPlugin<ApiKeyMetadata, ApiKeySecrets> = {
  type: "resend",
  description: resendDescription,
  parseConfig: (input) => parseApiKeyConfig(input, resendKeyFormat),
  deliver: (request, context) => guardAttempt(() => deliverResend(request, context)),
  loadActionData: resendActionData,
  loadFields: resendFields,
  defaultMapping,
};

async function deliverResend(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  const apiKey = apiKeyOf(request.connection.secrets);
  if (apiKey === undefined) return failedBeforeSending("internal", `connection ${request.connection.id} has no stored Resend API key`);
  const caller = resendCaller(request, context, apiKey);
  switch (request.action) {
    case "send_email_template":
    case "send_email":
      return deliverEmail(request, caller);
    case "add_to_segment":
    case "remove_from_segment":
      return deliverSegmentAction(request, caller, request.action === "add_to_segment");
    default:
      return noSuchAction(resendDescription, request.action);
  }
}
