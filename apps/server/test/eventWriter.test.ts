import { randomBytes } from "node:crypto";
import type { NewEventRow } from "@switchyard/db";
import { type Db, openDatabase } from "@switchyard/db";
import { createSecretBox } from "@switchyard/secret-box";
import { createTestDatabase } from "@switchyard/testing";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids.js";
import { createEventWriter } from "../src/ingest/eventWriter.js";
import { createTenant, type Tenant } from "./support/fixtures.js";

let db: Db;
let pool: pg.Pool;
let close: () => Promise<void>;
let drop: () => Promise<void>;
let tenant: Tenant;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  const handle = openDatabase({ connectionString: database.url, timeoutMs: 5000, poolSize: 4, onIdleError: () => {} });
  db = handle.db;
  pool = handle.pool;
  close = handle.close;
  tenant = await createTenant(db, createSecretBox(randomBytes(32)), "Writer");
});

afterAll(async () => {
  await close?.();
  await drop?.();
});

const row = (workspace: string, extra: Partial<NewEventRow> = {}): NewEventRow => ({
  id: uuidv7(),
  workspace_id: workspace,
  event: "grouped",
  resource: null,
  resource_id: null,
  payloadJson: "{}",
  created_by: "test",
  ...extra,
});

const options = { idempotencyTtlSeconds: 3600, maxInFlight: 1, maxRows: 400, onRouted: () => {} };

const stored = async (ids: string[]) =>
  (await db.selectFrom("events").select("id").where("id", "in", ids).execute()).map((r) => r.id).sort();

describe("createEventWriter", () => {
  it("when requests arrive while a statement runs, then they are written together in one statement (with no routing work, no wake)", async () => {
    let wakes = 0;
    const writer = createEventWriter(pool, { ...options, onRouted: () => wakes++ });
    const batches = Array.from({ length: 5 }, () => [row(tenant.workspaceId), row(tenant.workspaceId)]);
    const results = await Promise.all(batches.map((rows) => writer.write(rows)));
    // The first went alone; the four that queued behind it shared the next statement (one creation time).
    expect(new Set(results.slice(1).map((r) => r.createdAt.getTime())).size).toBe(1);
    expect(results[1]).toBe(results[4]);
    expect(await stored(batches.flat().map((r) => r.id))).toEqual(
      batches
        .flat()
        .map((r) => r.id)
        .sort(),
    );
    expect(wakes).toBe(0);
  });

  it("when one queued request's rows make the group's statement fail, then only that request fails", async () => {
    const writer = createEventWriter(pool, options);
    const first = writer.write([row(tenant.workspaceId)]);
    // A workspace that does not exist: the foreign key refuses it (validation would never let this through).
    const bad = writer.write([row("00000000-0000-7000-8000-000000000000")]);
    const good = [row(tenant.workspaceId)];
    const goodWrite = writer.write(good);
    await first;
    await expect(bad).rejects.toMatchObject({ code: "23503" });
    const result = await goodWrite;
    expect(result.stored.get(good[0]?.id ?? "")).toBe("completed");
    expect(await stored(good.map((r) => r.id))).toEqual([good[0]?.id]);
  });

  it("when a queued request's deadline passes before its turn, then its rows are not written and it fails with the deadline's reason", async () => {
    const writer = createEventWriter(pool, options);
    const blocker = writer.write([row(tenant.workspaceId)]);
    const expired = new AbortController();
    const late = [row(tenant.workspaceId)];
    const lateWrite = writer.write(late, expired.signal);
    const next = [row(tenant.workspaceId)];
    const nextWrite = writer.write(next);
    expired.abort(new Error("deadline passed"));
    await expect(lateWrite).rejects.toThrow("deadline passed");
    await Promise.all([blocker, nextWrite]);
    expect(await stored([...late, ...next].map((r) => r.id))).toEqual([next[0]?.id]);
    // Already aborted: nothing is queued at all.
    await expect(writer.write([row(tenant.workspaceId)], expired.signal)).rejects.toThrow("deadline passed");
  });

  it("when two queued requests use one idempotency key, then one event is stored and the other request finds the key taken", async () => {
    const writer = createEventWriter(pool, options);
    const blocker = writer.write([row(tenant.workspaceId)]);
    const a = row(tenant.workspaceId, { idempotency_key: "shared-key" });
    const b = row(tenant.workspaceId, { idempotency_key: "shared-key" });
    const [ra, rb] = await Promise.all([writer.write([a]), writer.write([b]), blocker]);
    expect(ra?.stored.has(a.id)).toBe(true);
    expect(rb?.stored.has(b.id)).toBe(false);
    expect(await stored([a.id, b.id])).toEqual([a.id]);
  });
});
