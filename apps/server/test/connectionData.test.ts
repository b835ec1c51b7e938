import {
  type ConnectionDefaultMappingInput,
  createConnection,
  getConnectionActions,
  getConnectionDefaultMapping,
  getConnectionFields,
  type MappingSchema,
  updateConnectionDefaultMapping,
} from "@switchyard/client";
import { sleep } from "@switchyard/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

// A connection's sub-resources: its actions' live data, its field catalog and its default mapping.

let server: TestServer;
let tenant: Tenant;
let stranger: Tenant;

useTestServer({ tenant: "Data" }, async (file) => {
  ({ server, tenant } = file);
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
});

const auth = () => bearer(tenant.machine);

async function newConnectionId(): Promise<string> {
  const { data } = await createConnection({
    client: server.client,
    headers: await auth(),
    body: { workspace: tenant.workspaceId, type: "webhook", name: "Data", metadata: { url: "https://hooks.example.com/data" } },
  });
  if (data === undefined) throw new Error("no connection created");
  return data.connection.id;
}

const emailMapping: MappingSchema = {
  schema_version: 1,
  fields: [
    {
      dest: "email",
      source: { type: "path", value: "user.email" },
      transforms: [{ type: "trim" }, { type: "lower" }],
      on_error: "fail_action",
    },
    { dest: "sku", source: { type: "path", value: "items.0.sku" } },
    { dest: "source", source: { type: "literal", value: "switchyard" }, transforms: [{ type: "substring", start: 0, length: 6 }] },
  ],
  meta: { name: "CRM", notes: "contact sync" },
};

async function putMapping(id: string, body: ConnectionDefaultMappingInput, owner: Tenant = tenant) {
  return updateConnectionDefaultMapping({ client: server.client, headers: await bearer(owner.machine), path: { id }, body });
}

describe("actions", () => {
  it("when a webhook connection's actions are asked for, then send_webhook is answered with no items (it has no connected account)", async () => {
    const id = await newConnectionId();
    const { data, response } = await getConnectionActions({ client: server.client, headers: await auth(), path: { id } });
    expect(response?.status).toBe(200);
    expect(data).toEqual({
      connection_id: id,
      workspace_id: tenant.workspaceId,
      type: "webhook",
      actions: { send_webhook: { key: "send_webhook", label: "Send webhook", noun: "Webhook", items: [] } },
    });
  });
});

describe("field catalog", () => {
  it("when the catalog is first read, then it is made and stored, and read again unchanged", async () => {
    const id = await newConnectionId();
    const first = await getConnectionFields({ client: server.client, headers: await auth(), path: { id } });
    expect(first.response?.status).toBe(200);
    expect(first.data).toMatchObject({
      connection_id: id,
      workspace_id: tenant.workspaceId,
      integration_type: "webhook",
      created_by: tenant.machine.accessKey,
    });
    expect(first.data?.fields.map((f) => f.key)).toEqual([
      "email",
      "id",
      "ip_address",
      "name",
      "first_name",
      "last_name",
      "phone",
      "resource_url",
    ]);
    expect(first.data?.fields[0]).toMatchObject({ key: "email", type: "string", constraints: { format: "email" } });
    const again = await getConnectionFields({ client: server.client, headers: await auth(), path: { id }, query: { refresh: false } });
    expect(again.data).toEqual(first.data);
    const rows = await server.db.selectFrom("connection_field_catalogs").selectAll().where("connection_id", "=", id).execute();
    expect(rows).toHaveLength(1);
  });

  it("when the catalog is refreshed, then refreshed_at moves and the version stays while the fields are the same", async () => {
    const id = await newConnectionId();
    const first = await getConnectionFields({ client: server.client, headers: await auth(), path: { id } });
    // refreshed_at has millisecond precision: let one pass.
    await sleep(5);
    const refreshed = await getConnectionFields({ client: server.client, headers: await auth(), path: { id }, query: { refresh: true } });
    expect(Date.parse(refreshed.data?.refreshed_at ?? "")).toBeGreaterThan(Date.parse(first.data?.refreshed_at ?? ""));
    expect(refreshed.data).toMatchObject({
      id: first.data?.id,
      catalog_version: first.data?.catalog_version,
      created_at: first.data?.created_at,
    });
  });

  it("when the stored fields differ from what the integration offers now, then a refresh gives a new version", async () => {
    const id = await newConnectionId();
    const first = await getConnectionFields({ client: server.client, headers: await auth(), path: { id } });
    await server.db
      .updateTable("connection_field_catalogs")
      .set({ fields: "[]", catalog_version: "old" })
      .where("connection_id", "=", id)
      .execute();
    const stale = await getConnectionFields({ client: server.client, headers: await auth(), path: { id } });
    expect(stale.data).toMatchObject({ catalog_version: "old", fields: [] });
    const refreshed = await getConnectionFields({ client: server.client, headers: await auth(), path: { id }, query: { refresh: true } });
    expect(refreshed.data?.catalog_version).toBe(first.data?.catalog_version);
    expect(refreshed.data?.fields).toEqual(first.data?.fields);
  });
});

describe("default mapping", () => {
  it("when a connection is new, then its default mapping is generated and empty; each PUT stores the next version", async () => {
    const id = await newConnectionId();
    const headers = await auth();
    const generated = await getConnectionDefaultMapping({ client: server.client, headers, path: { id } });
    expect(generated.data).toMatchObject({
      status: "generated",
      mapping: {
        version: 1,
        connection_id: id,
        workspace_id: tenant.workspaceId,
        integration_type: "webhook",
        name: "Default mapping",
        schema: { schema_version: 1, fields: [] },
        created_by: tenant.machine.accessKey,
      },
    });
    expect(generated.data?.mapping).not.toHaveProperty("catalog_version");
    const mappingId = generated.data?.mapping.mapping_id ?? "";

    const catalog = await getConnectionFields({ client: server.client, headers, path: { id } });
    const stored = await putMapping(id, {
      expected_version: 1,
      mapping_id: mappingId,
      workspace_id: tenant.workspaceId,
      name: "CRM",
      schema: emailMapping,
    });
    expect(stored.response?.status).toBe(200);
    expect(stored.data).toMatchObject({
      status: "stored",
      mapping: { version: 2, mapping_id: mappingId, name: "CRM", schema: emailMapping, catalog_version: catalog.data?.catalog_version },
    });
    expect(stored.data?.mapping.id).not.toBe(generated.data?.mapping.id);
    expect((await getConnectionDefaultMapping({ client: server.client, headers, path: { id } })).data).toEqual(stored.data);

    const third = await putMapping(id, { schema: { schema_version: 1, fields: [] } });
    expect(third.data).toMatchObject({ status: "stored", mapping: { version: 3, name: "CRM", mapping_id: mappingId } });
  });

  it.each([
    [
      "an expected_version that is not the current one",
      (mappingId: string) => ({ expected_version: 1, mapping_id: mappingId }),
      "expected_version",
    ],
    ["another mapping's id", () => ({ mapping_id: "0192f0c5-0000-7000-8000-0000000000d0" }), "mapping_id"],
    ["another workspace", () => ({ workspace_id: "0192f0c5-0000-7000-8000-0000000000aa" }), "workspace_id"],
  ])("when a PUT names %s, then it answers 409 and the mapping is unchanged", async (_what, expectation, param) => {
    const id = await newConnectionId();
    const first = await putMapping(id, { schema: emailMapping });
    expect(first.data?.mapping.version).toBe(2);
    const refused = await putMapping(id, {
      ...expectation(first.data?.mapping.mapping_id ?? ""),
      schema: { schema_version: 1, fields: [] },
    });
    expect(refused.response?.status).toBe(409);
    expect(refused.error?.error).toMatchObject({ name: "Conflict", data: [{ param }] });
    expect((await getConnectionDefaultMapping({ client: server.client, headers: await auth(), path: { id } })).data).toEqual(first.data);
  });

  it("when two PUTs expect the same version at once, then one is stored and the other answers 409", async () => {
    const id = await newConnectionId();
    const answers = await Promise.all([1, 2].map(() => putMapping(id, { expected_version: 1, schema: emailMapping })));
    expect(answers.map((a) => a.response?.status).sort()).toEqual([200, 409]);
  });

  it("when a mapping writes one dest twice, then it answers 422 naming the repeat and stores nothing", async () => {
    const id = await newConnectionId();
    const schema: MappingSchema = {
      schema_version: 1,
      fields: [
        { dest: "email", source: { type: "path", value: "email" } },
        { dest: "name", source: { type: "path", value: "name" } },
        { dest: "email", source: { type: "literal", value: null } },
      ],
    };
    const refused = await putMapping(id, { schema });
    expect(refused.response?.status).toBe(422);
    expect(refused.error?.error).toMatchObject({
      name: "UnprocessableEntity",
      message: "The mapping is invalid.",
      data: [{ param: "schema.fields.2.dest", msg: expect.stringMatching(/repeats the dest of schema.fields.0/) }],
    });
    expect((await getConnectionDefaultMapping({ client: server.client, headers: await auth(), path: { id } })).data?.status).toBe(
      "generated",
    );
  });

  const field = (overrides: Record<string, unknown>) => ({ dest: "x", source: { type: "path", value: "x" }, ...overrides });
  it.each([
    ["schema_version 2", { schema_version: 2, fields: [] }],
    ["no fields", { schema_version: 1 }],
    ["251 fields", { schema_version: 1, fields: Array.from({ length: 251 }, (_, i) => field({ dest: `f${i}` })) }],
    ["an empty dest", { schema_version: 1, fields: [field({ dest: "" })] }],
    ["a dest of 129 characters", { schema_version: 1, fields: [field({ dest: "d".repeat(129) })] }],
    ["a path that is not a selector", { schema_version: 1, fields: [field({ source: { type: "path", value: "user..email" } })] }],
    ["a path starting with a digit", { schema_version: 1, fields: [field({ source: { type: "path", value: "0.email" } })] }],
    ["an empty literal string", { schema_version: 1, fields: [field({ source: { type: "literal", value: "" } })] }],
    ["an object literal", { schema_version: 1, fields: [field({ source: { type: "literal", value: { a: 1 } } })] }],
    ["an unknown source type", { schema_version: 1, fields: [field({ source: { type: "env", value: "HOME" } })] }],
    ["an unknown transform", { schema_version: 1, fields: [field({ transforms: [{ type: "reverse" }] })] }],
    ["11 transforms", { schema_version: 1, fields: [field({ transforms: Array.from({ length: 11 }, () => ({ type: "trim" })) })] }],
    ["a substring without start", { schema_version: 1, fields: [field({ transforms: [{ type: "substring" }] })] }],
    ["a negative substring start", { schema_version: 1, fields: [field({ transforms: [{ type: "substring", start: -1 }] })] }],
    ["a default without value", { schema_version: 1, fields: [field({ transforms: [{ type: "default" }] })] }],
    [
      "a timezone of 65 characters",
      { schema_version: 1, fields: [field({ transforms: [{ type: "to_date", timezone: "z".repeat(65) }] })] },
    ],
    ["an unknown on_error", { schema_version: 1, fields: [field({ on_error: "ignore" })] }],
    ["notes of 1025 characters", { schema_version: 1, fields: [field({ notes: "n".repeat(1025) })] }],
    ["a meta name of 65 characters", { schema_version: 1, fields: [], meta: { name: "m".repeat(65) } }],
  ])("when the schema has %s, then it answers 400 and stores nothing", async (_what, schema) => {
    const id = await newConnectionId();
    const refused = await putMapping(id, { schema: schema as unknown as MappingSchema });
    expect(refused.response?.status).toBe(400);
    expect(refused.error?.error.name).toBe("BadRequest");
    expect((await getConnectionDefaultMapping({ client: server.client, headers: await auth(), path: { id } })).data?.mapping.version).toBe(
      1,
    );
  });

  it("when the schema uses every transform Meshes defines, then it is stored", async () => {
    const id = await newConnectionId();
    const transforms = [
      { type: "to_string" },
      { type: "to_number" },
      { type: "to_boolean" },
      { type: "to_date", timezone: "Europe/Berlin" },
      { type: "to_datetime" },
      { type: "default", value: 0 },
      { type: "trim" },
      { type: "lower" },
      { type: "upper" },
      { type: "substring", start: 1 },
    ];
    const schema = { schema_version: 1, fields: [{ dest: "x", source: { type: "path", value: "a_b.c1" }, transforms }] } as MappingSchema;
    const stored = await putMapping(id, { schema });
    expect(stored.response?.status).toBe(200);
    expect(stored.data?.mapping.schema).toEqual(schema);
  });
});

describe("isolation", () => {
  let id: string;
  beforeAll(async () => {
    id = await newConnectionId();
  });

  it("when another organization names the connection, then every sub-resource answers 404 and nothing changes", async () => {
    const headers = await bearer(stranger.machine);
    const path = { id };
    const answers = [
      await getConnectionActions({ client: server.client, headers, path }),
      await getConnectionFields({ client: server.client, headers, path }),
      await getConnectionFields({ client: server.client, headers, path, query: { refresh: true } }),
      await getConnectionDefaultMapping({ client: server.client, headers, path }),
      await putMapping(id, { schema: emailMapping }, stranger),
    ];
    expect(answers.map((a) => a.response?.status)).toEqual(answers.map(() => 404));
    for (const answer of answers) expect(answer.error?.error.name).toBe("NotFound");
    const catalogs = await server.db.selectFrom("connection_field_catalogs").select("id").where("connection_id", "=", id).execute();
    expect(catalogs).toEqual([]);
    expect(
      (await getConnectionDefaultMapping({ client: server.client, headers: await auth(), path }).then((a) => a.data))?.mapping.version,
    ).toBe(1);
  });
});
