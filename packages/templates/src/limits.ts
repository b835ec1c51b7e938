/**
 * Limits of one template. Render time and memory need no limit of their own: rendering is one pass over the
 * parsed parts, stops as soon as the text passes `maxOutputLength`, and runs no loops (see the README).
 */
export interface TemplateLimits {
  /** Longest template source, in UTF-16 code units (JavaScript string length). Default 8192. */
  readonly maxSourceLength: number;
  /**
   * Longest rendered text, in UTF-16 code units; a longer result is an error, never cut short. Default 40000,
   * Slack's limit for a message's `text` and the largest of the chat destinations'. A plugin with a tighter
   * limit (a Discord embed's description: 4096) passes its own.
   */
  readonly maxOutputLength: number;
}

export const defaultTemplateLimits: TemplateLimits = Object.freeze({
  maxSourceLength: 8192,
  maxOutputLength: 40_000,
});
