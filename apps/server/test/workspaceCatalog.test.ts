import { createEventsBulk, listWorkspaceEventTypes, listWorkspaceResources, type WorkspaceCatalogEntry } from "@switchyard/client";
import { insertEvents } from "@switchyard/db";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids.js";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

// The workspace catalog (`/workspaces/{id}/event-types` and `/resources`): counts kept by the ingest statement
// itself, exact for committed events only.

let server: TestServer;
let databaseUrl: string;
let stranger: Tenant;

useTestServer({}, async (file) => {
  ({ server, databaseUrl } = file);
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
});

type Item = { event: string; payload: Record<string, unknown>; resource?: string; idempotency_key?: string; workspace?: string };

const item = (event: string, resource?: string, key?: string): Item => ({
  event,
  payload: { n: 1 },
  ...(resource === undefined ? {} : { resource }),
  ...(key === undefined ? {} : { idempotency_key: key }),
});

async function send(tenant: Tenant, items: readonly Item[]) {
  const answer = await createEventsBulk({
    client: server.client,
    headers: { "X-Meshes-Publishable-Key": tenant.publishableKey },
    body: items as Item[],
  });
  return { status: answer.response?.status, body: answer.data };
}

async function catalog(tenant: Tenant, kind: "event-types" | "resources", query: { limit?: number; cursor?: string } = {}) {
  const list = kind === "event-types" ? listWorkspaceEventTypes : listWorkspaceResources;
  const answer = await list({ client: server.client, headers: await bearer(tenant.machine), path: { id: tenant.workspaceId }, query });
  return { status: answer.response?.status, body: answer.data, error: answer.error };
}

/** The whole catalog of a kind, as `key → event_count`. */
async function counts(tenant: Tenant, kind: "event-types" | "resources"): Promise<Record<string, number>> {
  const { body } = await catalog(tenant, kind, { limit: 200 });
  return Object.fromEntries((body?.records ?? []).map((r) => [r.key, r.event_count]));
}

describe("workspace catalog", () => {
  it("when bulks with several names and resources are stored, then each name and resource counts its events exactly", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Counted");
    const first = [item("contact.created", "contact"), item("contact.created", "contact"), item("invoice.paid", "invoice"), item("ping")];
    const second = [item("contact.created", "lead"), item("invoice.paid", "invoice"), item("ping"), item("ping")];
    expect((await send(tenant, first)).status).toBe(201);
    expect((await send(tenant, second)).status).toBe(201);

    expect(await counts(tenant, "event-types")).toEqual({ "contact.created": 3, "invoice.paid": 2, ping: 3 });
    // An event sent without a resource is stored, and counted, as Meshes' default: global.
    expect(await counts(tenant, "resources")).toEqual({ contact: 2, global: 3, invoice: 2, lead: 1 });
  });

  it("when entries are read, then each is Meshes' WorkspaceCatalogEntry with its times, and keeps its id from read to read", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Shaped");
    const before = Date.now();
    await send(tenant, [item("a.b", "thing")]);
    const { body: firstRead } = await catalog(tenant, "event-types");
    await send(tenant, [item("a.b", "thing")]);
    const { status, body } = await catalog(tenant, "event-types");
    expect(status).toBe(200);
    expect(body).toMatchObject({ count: 1, limit: 50, next_cursor: null });
    const [entry] = body?.records ?? [];
    expect(entry).toMatchObject({ key: "a.b", label: "a.b", active: true, event_count: 2 });
    expect(entry?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(entry?.id).toBe(firstRead?.records[0]?.id);
    expect(entry).not.toHaveProperty("description");
    expect(entry).not.toHaveProperty("created_by");
    const e = entry as WorkspaceCatalogEntry;
    expect(e.created_at).toBe(e.first_seen_at);
    expect(e.updated_at).toBe(e.last_seen_at);
    expect(Date.parse(e.first_seen_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(e.last_seen_at)).toBeGreaterThanOrEqual(Date.parse(e.first_seen_at));
    expect(e.first_seen_at).toBe(firstRead?.records[0]?.last_seen_at);
    // The event name and the resource of one key are different entries.
    const resources = await catalog(tenant, "resources");
    expect(resources.body?.records[0]?.id).not.toBe(e.id);
  });

  it("when a bulk is sent again with the same idempotency keys, or repeats a key within itself, then nothing counts twice", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Idempotent");
    const items = [item("order.placed", "order", "k1"), item("order.placed", "order", "k2"), item("order.placed", "order", "k1")];
    const sent = await send(tenant, items);
    expect(sent.body?.records.map((r) => ("duplicate" in r ? r.duplicate : undefined))).toEqual([undefined, undefined, true]);
    const again = await send(tenant, items);
    expect(again.body?.records.every((r) => r.type === "event" && r.duplicate === true)).toBe(true);

    expect(await counts(tenant, "event-types")).toEqual({ "order.placed": 2 });
    expect(await counts(tenant, "resources")).toEqual({ order: 2 });
  });

  it("when some items of a bulk are rejected, then only the stored ones count", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Rejecting");
    const sent = await send(tenant, [
      item("kept", "r"),
      { event: "bad.payload", payload: "not an object" as unknown as Record<string, unknown>, resource: "bad" },
      { ...item("foreign", "elsewhere"), workspace: stranger.workspaceId },
      { event: "", payload: {}, resource: "empty" },
    ]);
    expect(sent.status).toBe(207);
    expect(sent.body?.error_count).toBe(3);

    expect(await counts(tenant, "event-types")).toEqual({ kept: 1 });
    expect(await counts(tenant, "resources")).toEqual({ r: 1 });
    expect(await counts(stranger, "event-types")).toEqual({});
  });

  it("when the ingest statement's transaction is rolled back, then its events are not counted", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "RolledBack");
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query("begin");
      const row = {
        workspace_id: tenant.workspaceId,
        event: "ghost",
        resource: "spirit",
        resource_id: null,
        payloadJson: "{}",
        created_by: "test",
      };
      const written = await insertEvents(client, [{ ...row, id: uuidv7() }], 60);
      expect(written.stored.size).toBe(1);
      await client.query("rollback");
    } finally {
      await client.end();
    }
    expect(await counts(tenant, "event-types")).toEqual({});
    expect(await counts(tenant, "resources")).toEqual({});
  });

  it("when many bulks of one name arrive at once, then the count is exact and spread over at most as many rows as statements in flight", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Concurrent");
    const batch = Array.from({ length: 50 }, () => item("burst", "wave"));
    const answers = await Promise.all(Array.from({ length: 40 }, () => send(tenant, batch)));
    expect(answers.every((a) => a.status === 201)).toBe(true);

    expect(await counts(tenant, "event-types")).toEqual({ burst: 2000 });
    expect(await counts(tenant, "resources")).toEqual({ wave: 2000 });
    const shards = await server.db
      .selectFrom("workspace_catalog")
      .select("shard")
      .where("workspace_id", "=", tenant.workspaceId)
      .where("kind", "=", "event")
      .execute();
    // The test server's writer runs at most ceil(pool 5 / 2) = 3 statements at once.
    expect(shards.length).toBeGreaterThanOrEqual(1);
    expect(shards.length).toBeLessThanOrEqual(3);
  });

  it("when the catalog is read with a small limit, then the cursor walks every key once, in key order, even while new keys arrive", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Paged");
    await send(
      tenant,
      ["e", "b", "d", "a", "c"].map((name) => item(name)),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await catalog(tenant, "event-types", { limit: 2, cursor });
      expect(status).toBe(200);
      expect(body?.count).toBe(body?.records.length);
      seen.push(...(body?.records.map((r) => r.key) ?? []));
      cursor = body?.next_cursor ?? undefined;
      expect(cursor ?? "").toMatch(/^[A-Za-z0-9_-]*$/);
      // A key that sorts before the page already read does not shift the later pages.
      if (pages === 0) await send(tenant, [item("0-first")]);
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    expect(pages).toBe(3);
  });

  it("when a cursor was not handed out by the catalog, then it answers 400 naming cursor", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "BadCursor");
    for (const cursor of ["bm90LWEtY3Vyc29y", "a+b/"]) {
      const { status, error } = await catalog(tenant, "resources", { cursor });
      expect(status).toBe(400);
      expect(error?.error.name).toBe("BadRequest");
    }
  });

  it("when another organization's workspace, or an unknown one, is read, then it answers 404", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Nosy");
    await send(stranger, [item("secret", "hidden")]);
    for (const list of [listWorkspaceEventTypes, listWorkspaceResources]) {
      for (const id of [stranger.workspaceId, uuidv7()]) {
        const answer = await list({ client: server.client, headers: await bearer(tenant.machine), path: { id } });
        expect(answer.response?.status).toBe(404);
        expect(answer.error?.error.name).toBe("NotFound");
      }
    }
  });
});
