// Microseconds per render of a typical Slack template with three placeholders. Not a test: run it by hand
// after a build (`npx -y pnpm@12.4.2 --filter @switchyard/templates run build`), then `... run bench`.
import { compileTemplate } from "../dist/index.js";

const source = "🎉 New signup\nEmail: {{email}}\nPlan: {{plan}}\nAccount: {{account.name}}";
const payload = { email: "ada@example.com", plan: "pro", account: { name: "Acme Ltd", seats: 12 }, utm: { source: "ads" } };

function perCall(label, rounds, run) {
  for (let i = 0; i < rounds / 10; i++) run(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) run(i);
  const micros = Number(process.hrtime.bigint() - started) / 1000 / rounds;
  console.log(`${label}: ${micros.toFixed(3)} µs`);
}

const compiled = compileTemplate(source);
if (!compiled.ok) throw new Error(compiled.error);
const { template } = compiled;
let length = 0;
perCall("render (compiled once)", 2_000_000, () => {
  const result = template.render(payload);
  length += result.ok ? result.text.length : 0;
});
perCall("compile", 200_000, (i) => {
  length += compileTemplate(`${source} #${i}`).ok ? 1 : 0;
});
console.log(`(checksum ${length})`);
