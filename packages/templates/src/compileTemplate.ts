import { formatValue } from "./formatValue.js";
import { defaultTemplateLimits, type TemplateLimits } from "./limits.js";
import { type ParsedTemplate, parseTemplate } from "./parseTemplate.js";
import { resolvePath } from "./resolvePath.js";

export type RenderResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

/** A template parsed once; safe to cache and to render concurrently (it holds no state between renders). */
export interface CompiledTemplate {
  readonly source: string;
  readonly limits: TemplateLimits;
  /** Renders against a payload (any JSON value; its root is the root of every path). Synchronous; never throws. */
  render(payload: unknown): RenderResult;
}

export type CompileResult = { readonly ok: true; readonly template: CompiledTemplate } | { readonly ok: false; readonly error: string };

/**
 * Parses a template, for a rule's creation (an error is a 422) and for the worker's cache. Never throws; the
 * error says where the template is wrong (`line 2, column 7: {{ is not closed by }}`).
 */
export function compileTemplate(source: string, limits?: Partial<TemplateLimits>): CompileResult {
  const effective = effectiveLimits(limits);
  if (typeof effective === "string") return { ok: false, error: effective };
  if (typeof source !== "string") return { ok: false, error: "a template must be a string" };
  if (source.length > effective.maxSourceLength) {
    return { ok: false, error: `the template is ${source.length} characters long; the limit is ${effective.maxSourceLength}` };
  }
  const parsed = parseTemplate(source);
  if (!parsed.ok) return parsed;
  const template: CompiledTemplate = Object.freeze({
    source,
    limits: Object.freeze(effective),
    render: (payload: unknown) => renderParsed(parsed.parsed, payload, effective.maxOutputLength),
  });
  return { ok: true, template };
}

/** Compiles and renders in one call, for a one-off render (a test event); the worker caches compiled templates. */
export function renderTemplate(source: string, payload: unknown, limits?: Partial<TemplateLimits>): RenderResult {
  const compiled = compileTemplate(source, limits);
  return compiled.ok ? compiled.template.render(payload) : compiled;
}

function effectiveLimits(limits: Partial<TemplateLimits> | undefined): TemplateLimits | string {
  const effective: TemplateLimits = {
    maxSourceLength: limits?.maxSourceLength ?? defaultTemplateLimits.maxSourceLength,
    maxOutputLength: limits?.maxOutputLength ?? defaultTemplateLimits.maxOutputLength,
  };
  for (const [name, value] of Object.entries(effective)) {
    if (!Number.isSafeInteger(value) || value < 0) return `limits.${name} must be a whole number of characters, 0 or more`;
  }
  return effective;
}

function renderParsed({ literals, paths }: ParsedTemplate, payload: unknown, maxOutputLength: number): RenderResult {
  try {
    let text = literals[0] ?? "";
    for (let i = 0; i < paths.length && text.length <= maxOutputLength; i++) {
      const value = formatValue(resolvePath(payload, paths[i] ?? []));
      if (!value.ok) return value;
      text += value.text + (literals[i + 1] ?? "");
    }
    if (text.length > maxOutputLength) return { ok: false, error: `the rendered text is longer than ${maxOutputLength} characters` };
    return { ok: true, text };
  } catch (error) {
    // Not expected: paths read own data properties only. Kept so that render keeps its promise never to throw.
    return { ok: false, error: `the template could not be rendered: ${error instanceof Error ? error.message : String(error)}` };
  }
}
