// Regenerates the SDK into a temporary folder and fails, naming the fix, if it differs from src/gen.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createClient } from "@hey-api/openapi-ts";

const committed = new URL("../src/gen/", import.meta.url).pathname;
const fresh = await mkdtemp(join(tmpdir(), "switchyard-gen-"));
try {
  await createClient({
    input: new URL("../../../openapi/openapi.yaml", import.meta.url).pathname,
    output: fresh,
    logs: { level: "silent" },
  });
  const [a, b] = await Promise.all([snapshot(committed), snapshot(fresh)]);
  const drift = [...new Set([...a.keys(), ...b.keys()])].filter((file) => a.get(file) !== b.get(file)).sort();
  if (drift.length > 0) {
    console.error(`The generated client is out of date with openapi/openapi.yaml: ${drift.join(", ")}`);
    console.error("Fix: pnpm generate (then commit packages/client/src/gen)");
    process.exit(1);
  }
  console.log("generated client matches openapi/openapi.yaml");
} finally {
  await rm(fresh, { recursive: true, force: true });
}

async function snapshot(dir) {
  const files = new Map();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path, "utf8"));
  }
  return files;
}
