import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createEventsBulk,
  getConnection,
  getEvent,
  getRule,
  getWorkspace,
  listEvents,
  listWorkspaceEventTypes,
  listWorkspaceRules,
  listWorkspaces,
  type MachineCredentials,
} from "@switchyard/client";
import { createWebhookRoute, type Tenant } from "@switchyard/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids.js";
import { insertOrganization } from "../src/organizations/organizations.repository.js";
import { createAccessKey } from "../src/organizations/organizations.service.js";
import { createWorkspace } from "../src/workspaces/workspaces.service.js";
import { bearer } from "./support/fixtures.js";
import { MeshesClientRefusal, meshesApi } from "./support/meshesApi.js";
import { runCli } from "./support/runCli.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

// `switchyard org rekey`: an organization made before ids were UUIDv4 (its id a UUIDv7, which Meshes' API client
// refuses) moves to a new UUIDv4 id, with everything that hangs off it.

let server: TestServer;
let databaseUrl: string;
let dataDir: string;

useTestServer({}, (file) => {
  ({ server, databaseUrl } = file);
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "switchyard-rekey-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The built CLI on the file's database. */
const cli = (...args: string[]) => runCli({ databaseUrl, dataDir }, ...args);

/** An organization as made before UUIDv4 ids: a UUIDv7 id, an access key, a workspace, a route and events. */
async function legacyTenant(): Promise<Tenant & { ruleId: string; connectionId: string; eventId: string }> {
  const organization = await insertOrganization(server.db, { id: uuidv7(), name: "Legacy" });
  const { accessKey, secretKey } = await createAccessKey(server.db, server.secretBox, organization.id, "old");
  const { workspace, publishable_key } = await createWorkspace(server.db, organization.id, "Legacy workspace", "from before");
  const tenant: Tenant = {
    organizationId: organization.id,
    workspaceId: workspace.id,
    publishableKey: publishable_key.key,
    machine: { accessKey, secretKey, organizationId: organization.id },
  };
  const route = await createWebhookRoute(server.client, tenant, "order.placed", "http://127.0.0.1:9/hook");
  const sent = await createEventsBulk({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: [
      { event: "order.placed", resource: "order", payload: { n: 1 }, workspace: workspace.id },
      { event: "order.shipped", resource: "order", payload: { n: 2 }, workspace: workspace.id },
    ],
  });
  expect(sent.response?.status).toBe(201);
  const eventId = sent.data?.records[0]?.type === "event" ? sent.data.records[0].id : "";
  return { ...tenant, ruleId: route.ruleId, connectionId: route.connectionId, eventId };
}

describe("org rekey", () => {
  it("when a UUIDv7 organization is rekeyed, then a JWT with the new id reads everything it had and the old id is refused 401", async () => {
    const legacy = await legacyTenant();
    expect(() => meshesApi(server.baseUrl, legacy.machine)).toThrow(MeshesClientRefusal);

    const rekeyed = await cli("org", "rekey", "--org", legacy.organizationId);
    expect(rekeyed.code).toBe(0);
    const printed = JSON.parse(rekeyed.stdout) as { id: string; previous_id: string; name: string };
    expect(printed).toMatchObject({ previous_id: legacy.organizationId, name: "Legacy" });
    expect(printed.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const now: MachineCredentials = { ...legacy.machine, organizationId: printed.id };
    const headers = async () => bearer(now);
    const client = server.client;
    const workspace = await getWorkspace({ client, headers: await headers(), path: { id: legacy.workspaceId } });
    expect(workspace.data).toMatchObject({ organization: printed.id, name: "Legacy workspace", description: "from before" });
    expect(workspace.data?.publishable_key?.public_key).toBe(legacy.publishableKey.split("_").slice(0, 4).join("_"));
    expect((await listWorkspaces({ client, headers: await headers() })).data?.records.map((w) => w.id)).toEqual([legacy.workspaceId]);
    expect((await getConnection({ client, headers: await headers(), path: { id: legacy.connectionId } })).response?.status).toBe(200);
    expect((await getRule({ client, headers: await headers(), path: { id: legacy.ruleId } })).response?.status).toBe(200);
    const rules = await listWorkspaceRules({ client, headers: await headers(), path: { id: legacy.workspaceId } });
    expect(rules.data?.records.map((r) => r.id)).toEqual([legacy.ruleId]);
    expect((await listEvents({ client, headers: await headers() })).data?.count).toBe(2);
    const event = await getEvent({ client, headers: await headers(), path: { id: legacy.eventId } });
    expect(event.data).toMatchObject({ event: "order.placed", total_rules: 1 });
    const types = await listWorkspaceEventTypes({ client, headers: await headers(), path: { id: legacy.workspaceId } });
    expect(types.data?.records.map((r) => [r.key, r.event_count])).toEqual([
      ["order.placed", 1],
      ["order.shipped", 1],
    ]);
    // Meshes' own client now accepts the organization and reads with it.
    const meshes = meshesApi(server.baseUrl, now);
    expect((await meshes.get(`/workspaces/${legacy.workspaceId}`)).status).toBe(200);

    // Tokens carrying the old id are refused; the publishable key (scoped to the workspace) still ingests.
    const old = await listWorkspaces({ client, headers: await bearer(legacy.machine) });
    expect(old.response?.status).toBe(401);
    const viaKey = await createEventsBulk({
      client,
      headers: { "X-Meshes-Publishable-Key": legacy.publishableKey },
      body: [{ event: "order.placed", payload: {} }],
    });
    expect(viaKey.response?.status).toBe(201);
  });

  it("when the organization is unknown, or its id is already one Meshes' clients accept, then the command is refused and changes nothing", async () => {
    const unknown = await cli("org", "rekey", "--org", uuidv7());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not found/);
    expect((await cli("org", "rekey", "--org", "not-a-uuid")).code).toBe(1);

    const created = await cli("org", "create", "--name", "Modern");
    const modern = JSON.parse(created.stdout) as { id: string };
    const refused = await cli("org", "rekey", "--org", modern.id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already has an id Meshes' clients accept.*nothing was changed/);
    const still = await server.db.selectFrom("organizations").select("id").where("id", "=", modern.id).executeTakeFirst();
    expect(still?.id).toBe(modern.id);

    const missing = await cli("org", "rekey");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--org is required/);
  });

  it("when any foreign key names an organization, then it cascades an id change (so rekey moves every row that names it)", async () => {
    const keys = await sql<{ name: string; on_update: string }>`
      select conname as name, confupdtype as on_update from pg_constraint
      where contype = 'f' and confrelid = 'organizations'::regclass order by conname`.execute(server.db);
    expect(keys.rows.length).toBeGreaterThanOrEqual(2);
    // 'c' is ON UPDATE CASCADE; a new table naming organizations must declare it too.
    expect(keys.rows.filter((k) => k.on_update !== "c")).toEqual([]);
  });
});
