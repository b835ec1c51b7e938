import { readFile } from "node:fs/promises";
import { describe, expect, inject, it } from "vitest";
import { migratedSchema } from "../src/index.js";

describe("schema.sql", () => {
  it("when the migrations run on an empty database, then the schema they make is schema.sql, to the letter", async () => {
    const committed = await readFile(new URL("../schema.sql", import.meta.url), "utf8");
    const migrated = await migratedSchema(inject("adminUrl"));
    // On a difference: a migration changed the schema without schema.sql. Run
    // `npx -y pnpm@12.4.2 --filter @switchyard/db run schema:write` and commit the file it writes.
    expect(migrated, "schema.sql is stale: run `npx -y pnpm@12.4.2 --filter @switchyard/db run schema:write`").toBe(committed);
  });
});
