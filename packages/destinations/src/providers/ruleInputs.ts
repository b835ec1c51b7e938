import { type CompiledTemplate, compileTemplate, defaultTemplateLimits } from "@switchyard/templates";
import type { ConfigError, DeliveryRequest } from "../destinationPlugin.js";
import type { IntegrationAction, IntegrationDescription } from "../integrationDescription.js";

/** The longest text input a rule may set when its action names no `maxLength`. */
export const defaultInputMaxLength = 1024;

/**
 * What is wrong with a rule's `metadata` for its action: required inputs missing, inputs that are not text or are
 * too long, templates that do not compile. Keys the action does not name are kept (Meshes' clients send older
 * keys such as `name`), unchecked. An unknown action is the caller's to report.
 */
export function ruleMetadataProblems(description: IntegrationDescription, metadata: Readonly<Record<string, unknown>>): ConfigError[] {
  const action = description.actions.find((a) => a.key === metadata.action);
  if (action === undefined) return [];
  const problems: ConfigError[] = [];
  for (const input of action.inputs ?? []) {
    const param = `metadata.${input.field}`;
    const value = metadata[input.field];
    if (value === undefined || value === null || value === "") {
      if (input.required) problems.push({ param, msg: `is required by the ${action.key} action (${input.label})` });
      continue;
    }
    if (typeof value !== "string") {
      problems.push({ param, msg: "must be a string" });
      continue;
    }
    const maxLength = input.maxLength ?? (input.template ? defaultTemplateLimits.maxSourceLength : defaultInputMaxLength);
    if (value.length > maxLength) problems.push({ param, msg: `must be at most ${maxLength} characters` });
    else if (input.template) {
      const compiled = cachedTemplate(value);
      if (!compiled.ok) problems.push({ param, msg: `is not a valid template: ${compiled.error}` });
    }
  }
  return problems;
}

/** The action a delivery's rule names, from the plugin's description. */
export function actionOf(description: IntegrationDescription, key: string): IntegrationAction | undefined {
  return description.actions.find((a) => a.key === key);
}

/** A text input of the delivery's rule: its value, or the reason it cannot be used (the attempt is a mapping error). */
export type RuleText = { readonly ok: true; readonly text: string | undefined } | { readonly ok: false; readonly message: string };

/** A plain text input of the rule (`metadata[field]`), undefined when unset. */
export function ruleText(request: DeliveryRequest, field: string): string | undefined {
  const value = request.rule.metadata[field];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * A template input of the rule (`metadata[field]`) rendered against the event's payload; `undefined` text when the
 * rule has none. Compiled templates are cached by source, so a rule's template is parsed once per process.
 */
export function renderRuleTemplate(request: DeliveryRequest, field: string): RuleText {
  const source = ruleText(request, field);
  if (source === undefined) return { ok: true, text: undefined };
  const compiled = cachedTemplate(source);
  if (!compiled.ok) return { ok: false, message: `metadata.${field} is not a valid template: ${compiled.error}` };
  const rendered = compiled.template.render(request.event.payload);
  return rendered.ok
    ? { ok: true, text: rendered.text }
    : { ok: false, message: `metadata.${field} could not be rendered: ${rendered.error}` };
}

type Compiled = { readonly ok: true; readonly template: CompiledTemplate } | { readonly ok: false; readonly error: string };

/** Bounded: a tenant writing many distinct templates only empties it, never grows it past this. */
const maxCachedTemplates = 2048;
const templates = new Map<string, Compiled>();

function cachedTemplate(source: string): Compiled {
  let compiled = templates.get(source);
  if (compiled === undefined) {
    if (templates.size >= maxCachedTemplates) templates.clear();
    compiled = compileTemplate(source);
    templates.set(source, compiled);
  }
  return compiled;
}
