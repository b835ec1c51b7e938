import { describe, expect, it } from "vitest";
import { compileTemplate, defaultTemplateLimits, renderTemplate } from "./index.js";

const payload = {
  email: "ada@example.com",
  plan: "pro",
  user: { name: "Ada", address: { city: "London" }, "first name": "Ada", "": "blank key" },
  items: [{ sku: "A-1" }, { sku: "B-2" }, { sku: "C-3" }],
  count: 3,
  ratio: 0.25,
  paid: true,
  trial: false,
  coupon: null,
  tags: ["new", "vip"],
  meta: { source: "ads", n: 1 },
  "0": "zero key",
};

function text(source: string, data: unknown = payload): string {
  const result = renderTemplate(source, data);
  if (!result.ok) throw new Error(`expected a text, got: ${result.error}`);
  return result.text;
}

function errorOf(source: string, data: unknown = payload, limits = {}): string {
  const result = renderTemplate(source, data, limits);
  if (result.ok) throw new Error(`expected an error, got the text: ${result.text}`);
  return result.error;
}

describe("renderTemplate", () => {
  it.each([
    ["New signup: {{email}}\nPlan: {{plan}}", "New signup: ada@example.com\nPlan: pro"],
    ["Hi {{ user.name }}!", "Hi Ada!"],
    ["{{user.address.city}}", "London"],
    ["{{items.0.sku}} {{items[1].sku}} {{ items[2].sku }}", "A-1 B-2 C-3"],
    ["{{items[-1].sku}} {{items.first.sku}} {{items.last.sku}}", "C-3 A-1 C-3"],
    ["{{items.size}} items, {{tags.size}} tags, {{email.size}} letters, {{meta.size}} keys", "3 items, 2 tags, 15 letters, 2 keys"],
    ['{{user["first name"]}} {{ user[\'first name\'] }} {{["email"]}} {{user[""]}}', "Ada Ada ada@example.com blank key"],
    ["{{0}}", "zero key"],
    ["no placeholders, braces } { and }} stay", "no placeholders, braces } { and }} stay"],
    ["", ""],
  ])("when the template is %j, then it renders %j", (source, expected) => {
    expect(text(source)).toBe(expected);
  });

  it.each([
    ["{{missing}}", ""],
    ["[{{user.missing}}]", "[]"],
    ["[{{missing.deeper.still}}]", "[]"],
    ["[{{email.name}}]", "[]"],
    ["[{{items[7].sku}}]", "[]"],
    ["[{{items[-9]}}]", "[]"],
    ["[{{coupon}}] [{{coupon.code}}]", "[] []"],
  ])("when %j names nothing, then it renders empty: %j", (source, expected) => {
    expect(text(source)).toBe(expected);
  });

  it.each([
    ["{{count}} / {{ratio}}", "3 / 0.25"],
    ["{{paid}} {{trial}}", "true false"],
    ["{{meta}}", '{"source":"ads","n":1}'],
    ["{{tags}}", '["new","vip"]'],
    ["{{items[0]}}", '{"sku":"A-1"}'],
  ])("when %j names a value that is not a string, then it renders %j", (source, expected) => {
    expect(text(source)).toBe(expected);
  });

  it("when a value holds markup, then it is written as it is, not escaped", () => {
    expect(text("{{v}}", { v: `<b>"Tom" & 'Jerry'</b>` })).toBe(`<b>"Tom" & 'Jerry'</b>`);
  });

  it.each([
    "{{constructor}}",
    "{{__proto__}}",
    "{{prototype}}",
    "{{toString}}",
    "{{user.constructor}}",
    "{{user.constructor.constructor}}",
    "{{user.__proto__.constructor}}",
    "{{items.constructor.name}}",
    "{{user.constructor.name}}",
    "{{user.__proto__.constructor.name}}",
    "{{user.toString.name}}",
    "{{email.constructor}}",
    "{{email.length}}",
    "{{user.hasOwnProperty}}",
    '{{user["constructor"]["constructor"]}}',
  ])("when %j reaches for an inherited property, then it renders empty", (source) => {
    expect(text(source)).toBe("");
  });

  it("when the payload has an own __proto__ key (from JSON), then it is read as data", () => {
    expect(text("{{__proto__.x}}", JSON.parse('{"__proto__": {"x": "own"}}'))).toBe("own");
  });

  it("when the payload has a getter, then it is not called", () => {
    let calls = 0;
    const data = Object.defineProperty({}, "secret", { enumerable: true, get: () => ++calls });
    expect(text("[{{secret}}]", data)).toBe("[]");
    expect(calls).toBe(0);
  });

  it("when the payload is not an object, then paths find nothing", () => {
    expect(text("[{{a}}]", null)).toBe("[]");
    expect(text("[{{a}}]", "text")).toBe("[]");
    expect(text("[{{0}}]", ["first"])).toBe("[first]");
  });

  it("when a value cannot be written as JSON, then the render is an error", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorOf("{{c}}", { c: cyclic })).toMatch(/cannot be written as JSON/);
  });

  it("when the text is longer than the output limit, then the render is an error, not a cut text", () => {
    expect(errorOf("{{v}}", { v: "x".repeat(11) }, { maxOutputLength: 10 })).toBe("the rendered text is longer than 10 characters");
    expect(renderTemplate("{{v}}", { v: "x".repeat(10) }, { maxOutputLength: 10 })).toEqual({ ok: true, text: "x".repeat(10) });
    const big = "x".repeat(defaultTemplateLimits.maxOutputLength);
    expect(errorOf("{{v}}!", { v: big })).toBe("the rendered text is longer than 40000 characters");
  });

  it("when the largest template repeats the largest value, then it stops at the output limit quickly", () => {
    const source = "{{v}}".repeat(Math.floor(defaultTemplateLimits.maxSourceLength / 5));
    const v = { nested: "y".repeat(60_000) };
    const started = performance.now();
    expect(errorOf(source, { v })).toMatch(/longer than 40000/);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe("compileTemplate", () => {
  it("when compiled once, then it renders many payloads", () => {
    const compiled = compileTemplate("{{user.name}} bought {{items.0.sku}}");
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.template.render(payload)).toEqual({ ok: true, text: "Ada bought A-1" });
    expect(compiled.template.render({ user: { name: "Bo" }, items: [] })).toEqual({ ok: true, text: "Bo bought " });
    expect(compiled.template.limits).toEqual(defaultTemplateLimits);
  });

  it("when the source is longer than the limit, then it is refused", () => {
    expect(compileTemplate("x".repeat(8192)).ok).toBe(true);
    expect(compileTemplate("x".repeat(8193))).toEqual({ ok: false, error: "the template is 8193 characters long; the limit is 8192" });
    expect(compileTemplate("hello", { maxSourceLength: 4 }).ok).toBe(false);
  });

  it.each([
    ["{% include 'secrets' %}", "line 1, column 1: tags such as"],
    ["{% render 'x' %}", "tags such as"],
    ["{% layout 'x' %}{% block b %}{% endblock %}", "tags such as"],
    ["{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}", "tags such as"],
    ["{% if paid %}yes{% endif %}", "tags such as"],
    ["{%raw%}{{x}}{%endraw%}", "tags such as"],
    ["Hi {{ user.name | upcase }}", "line 1, column 4: filters (|) are not supported"],
    ["Hi {{ user.name", "line 1, column 4: {{ is not closed by }}"],
    ["a\nbc {{ }}", "line 2, column 4: {{ }} is empty"],
    ["{{{name}}}", "is not a path"],
    ["{{- name -}}", "is not a path"],
    ["{{ user..name }}", "is not a path"],
    ["{{ user. name }}", "is not a path"],
    ["{{ .name }}", "is not a path"],
    ["{{ user name }}", "is not a path"],
    ["{{ items[0 }}", "is not a path"],
    ["{{ items[x] }}", "is not a path"],
    ["{{ 'literal' }}", "is not a path"],
    ["{{ a.constructor('return process')() }}", "is not a path"],
  ])("when the template is %j, then it is refused: %j", (source, message) => {
    const result = compileTemplate(source);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toContain(message);
  });

  it("when a tag bomb is given, then it is refused at once rather than run", () => {
    const started = performance.now();
    const result = renderTemplate("{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}", {});
    expect(result.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it.each([{ maxOutputLength: -1 }, { maxOutputLength: Number.NaN }, { maxSourceLength: 1.5 }])(
    "when a limit is not a whole number (%j), then compiling is an error",
    (limits) => {
      expect(compileTemplate("x", limits)).toEqual({ ok: false, error: expect.stringMatching(/must be a whole number/) });
    },
  );

  it("when a limit is given as undefined, then its default applies", () => {
    const compiled = compileTemplate("x", { maxOutputLength: undefined });
    expect(compiled.ok && compiled.template.limits.maxOutputLength).toBe(40_000);
  });

  it("when the source is not a string, then compiling is an error", () => {
    expect(compileTemplate(42 as unknown as string)).toEqual({ ok: false, error: "a template must be a string" });
  });
});
