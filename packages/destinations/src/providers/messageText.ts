import type { DeliveryRequest } from "../destinationPlugin.js";
import { renderRuleTemplate } from "./ruleInputs.js";

/** The provider's limit on one text of a message, in characters (JavaScript string length, never below the provider's count). */
export interface MessageTextLimit {
  readonly maxLength: number;
  /** What the limit is, for the message: "a Slack message's text". */
  readonly of: string;
}

export type MessageText = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

/**
 * A required template input of the rule rendered for a message: absent, empty (only spaces) or longer than the
 * provider takes is a mapping failure naming the field, never sent and never cut short. The message names the
 * field and the lengths, never the rendered text (it carries payload data).
 */
export function renderMessageText(request: DeliveryRequest, field: string, limit: MessageTextLimit): MessageText {
  const rendered = renderRuleTemplate(request, field);
  if (!rendered.ok) return rendered;
  if (rendered.text === undefined)
    return { ok: false, message: `metadata.${field} is not set on the rule; the ${request.action} action needs it` };
  if (rendered.text.trim() === "") return { ok: false, message: `metadata.${field} rendered to an empty text for this event` };
  if (rendered.text.length > limit.maxLength) {
    return {
      ok: false,
      message: `metadata.${field} rendered to ${rendered.text.length} characters; ${limit.of} takes at most ${limit.maxLength}`,
    };
  }
  return { ok: true, text: rendered.text };
}
