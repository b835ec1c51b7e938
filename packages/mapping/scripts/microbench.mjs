// Microseconds per apply of a 5-field mapping (compiled once, as the worker does), and per applyMapping
// (compile and apply). Not a test: run `pnpm --filter @switchyard/mapping run build` first, then this.
import { applyMapping, compileMapping } from "../dist/index.js";

const schema = {
  schema_version: 1,
  fields: [
    { dest: "email", source: { type: "path", value: "user.email" }, transforms: [{ type: "trim" }, { type: "lower" }] },
    { dest: "properties.first_name", source: { type: "path", value: "user.name" }, transforms: [{ type: "default", value: "friend" }] },
    { dest: "properties.total", source: { type: "path", value: "order.total" }, transforms: [{ type: "to_number" }] },
    { dest: "properties.first_sku", source: { type: "path", value: "order.items.0.sku" }, transforms: [{ type: "upper" }] },
    { dest: "properties.ordered_at", source: { type: "path", value: "order.created_at" }, transforms: [{ type: "to_datetime" }] },
  ],
};
const payload = {
  user: { email: "  Ada.Lovelace@Example.com ", name: "Ada" },
  order: {
    total: "129.90",
    created_at: "2024-03-09T14:05:09Z",
    items: [
      { sku: "sku-1", qty: 2 },
      { sku: "sku-2", qty: 1 },
    ],
  },
};

function measure(label, iterations, run) {
  for (let i = 0; i < iterations / 10; i++) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  const micros = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${label}: ${micros.toFixed(3)} µs per call (${iterations} calls)`);
}

const compiled = compileMapping(schema);
const result = compiled.apply(payload);
if (!result.ok || result.warnings.length > 0) throw new Error(`unexpected result: ${JSON.stringify(result)}`);
console.log(JSON.stringify(result.output));
measure("compiled.apply, 5 fields", 500_000, () => compiled.apply(payload));
measure("applyMapping (compile + apply), 5 fields", 100_000, () => applyMapping(schema, payload));
