/**
 * One step of a path: an own property's name, or (for `[-1]`) a position counted from the end of an array.
 * Array indexes are names too (`items.0` and `items[0]` both read the own property "0").
 */
export type PathStep = string | { readonly fromEnd: number };

/** A parsed template: `literals[0] + value(paths[0]) + literals[1] + … + literals[n]`. */
export interface ParsedTemplate {
  readonly literals: readonly string[];
  readonly paths: readonly (readonly PathStep[])[];
}

export type ParseResult = { readonly ok: true; readonly parsed: ParsedTemplate } | { readonly ok: false; readonly error: string };

// Sticky: each is tried at one position of the path (lastIndex), so parsing a path is linear in its length.
const identifier = /[\p{L}\p{N}_-]+/uy;
const bracket = /\[\s*(?:(-?\d+)|"([^"]*)"|'([^']*)')\s*\]/y;

/** Splits a template into literal text and `{{ path }}` placeholders. Tags (`{% … %}`) are refused. */
export function parseTemplate(source: string): ParseResult {
  const tag = source.indexOf("{%");
  if (tag !== -1) {
    return failure(source, tag, "tags such as {% if %}, {% for %} or {% include %} are not supported; use {{ path }} placeholders");
  }
  const literals: string[] = [];
  const paths: PathStep[][] = [];
  let from = 0;
  for (;;) {
    const open = source.indexOf("{{", from);
    if (open === -1) break;
    const close = source.indexOf("}}", open + 2);
    if (close === -1) return failure(source, open, "{{ is not closed by }}");
    const steps = parsePath(source.slice(open + 2, close));
    if (typeof steps === "string") return failure(source, open, steps);
    literals.push(source.slice(from, open));
    paths.push(steps);
    from = close + 2;
  }
  literals.push(source.slice(from));
  return { ok: true, parsed: { literals, paths } };
}

/** The steps of a path such as `user.name`, `items[0].sku`, `items[-1]` or `["first name"]`, or why it is not one. */
function parsePath(expression: string): PathStep[] | string {
  const text = expression.trim();
  if (text === "") return "{{ }} is empty; write a path such as {{ user.name }}";
  if (text.includes("|")) return `filters (|) are not supported in {{ ${excerpt(text)} }}; write a path such as {{ user.name }}`;
  const steps: PathStep[] = [];
  let at = 0;
  while (at < text.length) {
    const dotted = steps.length > 0 && text[at] === ".";
    if (dotted || steps.length === 0) {
      identifier.lastIndex = dotted ? at + 1 : at;
      const name = identifier.exec(text);
      if (name) {
        steps.push(name[0]);
        at = identifier.lastIndex;
        continue;
      }
    }
    bracket.lastIndex = at;
    const index = bracket.exec(text);
    if (!index) return `{{ ${excerpt(text)} }} is not a path; write one such as {{ user.name }} or {{ items[0].sku }}`;
    steps.push(bracketStep(index));
    at = bracket.lastIndex;
  }
  return steps;
}

function bracketStep(match: RegExpExecArray): PathStep {
  const [, index, doubleQuoted, singleQuoted] = match;
  if (index === undefined) return doubleQuoted ?? singleQuoted ?? "";
  const position = Number(index);
  return position < 0 ? { fromEnd: -position } : String(position);
}

function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function failure(source: string, offset: number, message: string): ParseResult {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return { ok: false, error: `line ${line}, column ${column}: ${message}` };
}
