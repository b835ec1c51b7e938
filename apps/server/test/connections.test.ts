import { randomBytes } from "node:crypto";
import {
  type ConnectionInput,
  createConnection,
  createRule,
  deleteConnection,
  deleteRule,
  getConnection,
  getRule,
  listConnections,
  listIntegrations,
  listRules,
  listWorkspaceConnections,
  listWorkspaceRules,
  type RuleInput,
  rotateSigningSecret,
  updateConnection,
} from "@switchyard/client";
import { secretContext } from "@switchyard/secret-box";
import { beforeAll, describe, expect, it } from "vitest";
import { createWorkspace } from "../src/workspaces/workspaces.service.js";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
/** The same database behind an API with the default (strict) destination allow-list. */
let strictServer: TestServer;
let tenant: Tenant;
let stranger: Tenant;

// One key for both servers, so that each can open the access keys the other's fixtures sealed.
useTestServer({ tenant: "Acme", encryptionKey: randomBytes(32) }, async (file) => {
  ({ server, tenant } = file);
  strictServer = await file.startServer({ destinationAllowList: "" });
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
});

const auth = () => bearer(tenant.machine);
const hookUrl = "https://hooks.example.com/switchyard";

function webhookInput(overrides: Partial<ConnectionInput> = {}, owner: Tenant = tenant): ConnectionInput {
  return { workspace: owner.workspaceId, type: "webhook", name: "CRM sync", metadata: { url: hookUrl }, ...overrides };
}

async function newConnection(input: ConnectionInput = webhookInput(), owner: Tenant = tenant) {
  const { data, response } = await createConnection({ client: server.client, headers: await bearer(owner.machine), body: input });
  expect(response?.status).toBe(201);
  if (data === undefined) throw new Error("no connection created");
  return data;
}

async function newRule(input: RuleInput, owner: Tenant = tenant) {
  const { data, response } = await createRule({ client: server.client, headers: await bearer(owner.machine), body: input });
  expect(response?.status).toBe(201);
  if (data === undefined) throw new Error("no rule created");
  return data.rule;
}

/** Every connection id the tenant's organization lists (one page is plenty here). */
async function listedConnectionIds(owner: Tenant = tenant): Promise<string[]> {
  const { data } = await listConnections({ client: server.client, headers: await bearer(owner.machine), query: { limit: 200 } });
  return data?.records.map((c) => c.id) ?? [];
}

async function listedRuleIds(owner: Tenant = tenant): Promise<string[]> {
  const { data } = await listRules({ client: server.client, headers: await bearer(owner.machine), query: { limit: 200 } });
  return data?.records.map((r) => r.id) ?? [];
}

describe("connections API", () => {
  it("when a webhook connection is created, then it answers the normalized config and a generated signing secret once", async () => {
    const created = await newConnection(webhookInput({ metadata: { url: hookUrl, payload_mode: "raw" } }));
    expect(created.connection).toMatchObject({
      type: "webhook",
      workspace: tenant.workspaceId,
      integration_type: "webhook",
      name: "CRM sync",
      active: true,
      hidden: false,
      created_by: tenant.machine.accessKey,
      metadata: {
        url: hookUrl,
        http_method: "POST",
        payload_mode: "raw",
        auth_scheme: "none",
        headers: {},
        signature_header: "X-Meshes-Signature",
      },
    });
    expect(created.connection).not.toHaveProperty("inactive_reason");
    expect(created.connection).not.toHaveProperty("inactive_detail");
    expect(Object.keys(created.secrets)).toEqual(["signing_secret"]);
    expect(created.secrets.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const fetched = await getConnection({ client: server.client, headers: await auth(), path: { id: created.connection.id } });
    expect(fetched.response?.status).toBe(200);
    expect(fetched.data).toEqual(created.connection);
  });

  it("when secrets exist, then no read, list, update or rotation answer ever shows one again", async () => {
    const token = "tok_the-bearer-credential-0123456789";
    const created = await newConnection(webhookInput({ metadata: { url: hookUrl, auth_scheme: "bearer" }, secrets: { token } }));
    const signingSecret = String(created.secrets.signing_secret);
    // What the client sent is not echoed, even now: only what the server generated is shown.
    expect(created.secrets).toEqual({ signing_secret: signingSecret });
    expect(JSON.stringify(created)).not.toContain(token);
    const id = created.connection.id;
    const headers = await auth();

    const answers: unknown[] = [];
    answers.push((await getConnection({ client: server.client, headers, path: { id } })).data);
    answers.push((await listConnections({ client: server.client, headers })).data);
    answers.push((await listConnections({ client: server.client, headers, query: { workspace: tenant.workspaceId } })).data);
    answers.push((await listWorkspaceConnections({ client: server.client, headers, path: { id: tenant.workspaceId } })).data);
    const renamed = await updateConnection({ client: server.client, headers, path: { id }, body: { name: "renamed" } });
    expect(renamed.response?.status).toBe(200);
    answers.push(renamed.data);
    const rotated = await rotateSigningSecret({ client: server.client, headers, path: { id } });
    expect(rotated.response?.status).toBe(201);
    const newSecret = rotated.data?.signing_secret ?? "";
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(signingSecret);
    // The rotation shows the new secret, and only it.
    expect(JSON.stringify(rotated.data)).not.toContain(signingSecret);
    expect(JSON.stringify(rotated.data)).not.toContain(token);
    const moved = await updateConnection({
      client: server.client,
      headers,
      path: { id },
      body: { metadata: { url: `${hookUrl}/v2`, auth_scheme: "bearer" } },
    });
    expect(moved.response?.status).toBe(200);
    answers.push(moved.data);
    answers.push((await getConnection({ client: server.client, headers, path: { id } })).data);

    expect(answers.every((answer) => answer !== undefined)).toBe(true);
    for (const answer of answers) {
      const text = JSON.stringify(answer);
      for (const secret of [signingSecret, newSecret, token]) expect(text).not.toContain(secret);
    }
  });

  it("when a connection is updated, then only the fields given change and deactivating records why", async () => {
    const created = await newConnection();
    const id = created.connection.id;
    const headers = await auth();
    const renamed = await updateConnection({ client: server.client, headers, path: { id }, body: { name: "Billing sync" } });
    expect(renamed.data).toMatchObject({ name: "Billing sync", metadata: created.connection.metadata, active: true });

    const moved = await updateConnection({
      client: server.client,
      headers,
      path: { id },
      body: { metadata: { url: `${hookUrl}/moved`, http_method: "PUT" } },
    });
    expect(moved.data).toMatchObject({
      name: "Billing sync",
      metadata: { url: `${hookUrl}/moved`, http_method: "PUT", payload_mode: "wrapped" },
    });

    const paused = await updateConnection({ client: server.client, headers, path: { id }, body: { active: false } });
    expect(paused.data).toMatchObject({
      active: false,
      inactive_reason: "manually_inactivated",
      inactive_detail: "deactivated through the API",
    });
    const hidden = await updateConnection({ client: server.client, headers, path: { id }, body: { hidden: true } });
    expect(hidden.data).toMatchObject({ hidden: true, active: false, inactive_reason: "manually_inactivated" });
    const resumed = await updateConnection({ client: server.client, headers, path: { id }, body: { active: true } });
    expect(resumed.data).toMatchObject({ active: true, hidden: true });
    expect(resumed.data).not.toHaveProperty("inactive_reason");
    expect(resumed.data).not.toHaveProperty("inactive_detail");

    const fetched = await getConnection({ client: server.client, headers, path: { id } });
    expect(fetched.data).toEqual(resumed.data);
  });

  it("when the path names a connection in upper case, then its secrets stay sealed to the connection and still open", async () => {
    const created = await newConnection();
    const id = created.connection.id;
    const upper = id.toUpperCase();
    const headers = await auth();
    const rotated = await rotateSigningSecret({ client: server.client, headers, path: { id: upper } });
    expect(rotated.response?.status).toBe(201);
    const moved = await updateConnection({
      client: server.client,
      headers,
      path: { id: upper },
      body: { metadata: { url: `${hookUrl}/upper` } },
    });
    expect(moved.response?.status).toBe(200);
    // The worker opens them under the stored (lower-case) id: so must every later change.
    const [row] = await server.db.selectFrom("connections").select(["id", "secrets_ciphertext"]).where("id", "=", id).execute();
    expect(row?.id).toBe(id);
    const secrets = JSON.parse(server.secretBox.open(row?.secrets_ciphertext ?? "", secretContext.connection(id))) as {
      signing_secret?: string;
    };
    expect(secrets.signing_secret).toBe(rotated.data?.signing_secret);
  });

  it("when connections are listed, then each list endpoint answers the workspace's or organization's connections only", async () => {
    const org = await createTenant(server.db, server.secretBox, "Lister");
    const second = await createWorkspace(server.db, org.organizationId, "Second");
    const a = await newConnection(webhookInput({}, org), org);
    const b = await newConnection(webhookInput({ workspace: second.workspace.id }, org), org);
    const headers = await bearer(org.machine);

    const all = await listConnections({ client: server.client, headers });
    expect(all.data?.records.map((c) => c.id)).toEqual([a.connection.id, b.connection.id]);
    const filtered = await listConnections({ client: server.client, headers, query: { workspace: second.workspace.id } });
    expect(filtered.data?.records.map((c) => c.id)).toEqual([b.connection.id]);
    const scoped = await listWorkspaceConnections({ client: server.client, headers, path: { id: org.workspaceId } });
    expect(scoped.data?.records.map((c) => c.id)).toEqual([a.connection.id]);

    const paged = await listConnections({ client: server.client, headers, query: { limit: 1 } });
    expect(paged.data?.records.map((c) => c.id)).toEqual([a.connection.id]);
    const next = await listConnections({ client: server.client, headers, query: { limit: 1, cursor: paged.data?.next_cursor ?? "" } });
    expect(next.data?.records.map((c) => c.id)).toEqual([b.connection.id]);
  });

  describe("refusals, which change nothing", () => {
    it.each([
      ["an integration type outside the enum", { type: "carrier_pigeon" }, "type"],
      ["a deprecated integration type outside the enum", { type: undefined, integration_type: "carrier_pigeon" }, "integration_type"],
      ["an unknown top-level field", { colour: "blue" }, "colour"],
      ["no name", { name: undefined }, "name"],
    ])("when the body has %s, then it answers 400", async (_what, change, param) => {
      const before = await listedConnectionIds();
      const body = { ...webhookInput(), ...change } as ConnectionInput;
      const { error, response } = await createConnection({ client: server.client, headers: await auth(), body });
      expect(response?.status).toBe(400);
      expect(error).toMatchObject({ message: "Bad Request", error: { name: "BadRequest" } });
      expect(JSON.stringify(error?.error.data)).toContain(param);
      expect(await listedConnectionIds()).toEqual(before);
    });

    it.each([
      ["a known but unsupported integration type", { type: "zoom" as const }, "type"],
      ["a URL that is not one", { metadata: { url: "not a url" } }, "metadata.url"],
      ["a URL with another scheme", { metadata: { url: "ftp://files.example.com/drop" } }, "metadata.url"],
      ["an unknown metadata field", { metadata: { url: hookUrl, colour: "blue" } }, "metadata.colour"],
      ["bearer auth without a token", { metadata: { url: hookUrl, auth_scheme: "bearer" } }, "secrets.token"],
    ])("when the connection has %s, then it answers 422 naming the field", async (_what, change, param) => {
      const before = await listedConnectionIds();
      const { error, response } = await createConnection({ client: server.client, headers: await auth(), body: webhookInput(change) });
      expect(response?.status).toBe(422);
      expect(error).toMatchObject({ message: "Unprocessable Entity", error: { name: "UnprocessableEntity" } });
      expect(error?.error.data?.map((d) => d.param)).toContain(param);
      expect(await listedConnectionIds()).toEqual(before);
    });

    it.each([
      "http://127.0.0.1:8080/hook",
      "http://localhost/hook",
      "http://LOCALHOST./hook",
      "http://[::1]/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://0x7f000001/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.7/hook",
    ])("when the destination allow-list is empty and the URL is %s, then it answers 422 and stores nothing", async (url) => {
      const before = await listedConnectionIds();
      const { error, response } = await createConnection({
        client: strictServer.client,
        headers: await auth(),
        body: webhookInput({ metadata: { url } }),
      });
      expect(response?.status).toBe(422);
      expect(error?.error.data).toEqual([{ param: "metadata.url", msg: expect.stringMatching(/must not point at/) }]);
      expect(await listedConnectionIds()).toEqual(before);
    });

    it("when an update names an internal URL or an unknown field, then it is refused and the connection is unchanged", async () => {
      const created = await newConnection();
      const id = created.connection.id;
      const headers = await auth();
      const internal = await updateConnection({
        client: strictServer.client,
        headers,
        path: { id },
        body: { metadata: { url: "http://127.0.0.1/hook" } },
      });
      expect(internal.response?.status).toBe(422);
      expect(internal.error?.error.data?.map((d) => d.param)).toEqual(["metadata.url"]);
      const unknown = await updateConnection({
        client: server.client,
        headers,
        path: { id },
        body: { name: "x", colour: "blue" } as never,
      });
      expect(unknown.response?.status).toBe(400);
      const empty = await updateConnection({ client: server.client, headers, path: { id }, body: {} });
      expect(empty.response?.status).toBe(400);
      const fetched = await getConnection({ client: server.client, headers, path: { id } });
      expect(fetched.data).toEqual(created.connection);
    });

    it("when the workspace is another organization's, then it answers 404 and stores nothing", async () => {
      const before = await listedConnectionIds(stranger);
      const { error, response } = await createConnection({
        client: server.client,
        headers: await auth(),
        body: webhookInput({ workspace: stranger.workspaceId }),
      });
      expect(response?.status).toBe(404);
      expect(error?.error.name).toBe("NotFound");
      expect(await listedConnectionIds(stranger)).toEqual(before);
    });
  });
});

describe("Meshes' connection input", () => {
  /** The stored row's config, with its secrets opened as the worker opens them. */
  async function storedConfig(id: string) {
    const row = await server.db
      .selectFrom("connections")
      .select(["metadata", "secrets_ciphertext", "hidden", "created_by"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    const secrets = JSON.parse(server.secretBox.open(row.secrets_ciphertext, secretContext.connection(id))) as Record<string, unknown>;
    return { ...row, secrets };
  }

  it.each([
    ["type alone", { type: "webhook" as const }],
    ["integration_type alone (deprecated)", { type: undefined, integration_type: "webhook" as const }],
    ["both, equal", { type: "webhook" as const, integration_type: "webhook" as const }],
  ])("when the body names the integration by %s, then it is created as a webhook", async (_what, naming) => {
    const created = await newConnection({ ...webhookInput(), ...naming });
    expect(created.connection).toMatchObject({ type: "webhook", integration_type: "webhook" });
  });

  it.each([
    ["both, different", { type: "webhook" as const, integration_type: "slack" as const }, "integration_type"],
    ["neither", { type: undefined }, "type"],
  ])("when the body names the integration by %s, then it answers 400 and stores nothing", async (_what, naming, param) => {
    const before = await listedConnectionIds();
    const { error, response } = await createConnection({
      client: server.client,
      headers: await auth(),
      body: { ...webhookInput(), ...naming },
    });
    expect(response?.status).toBe(400);
    expect(error?.error).toMatchObject({ name: "BadRequest", data: [{ param }] });
    expect(await listedConnectionIds()).toEqual(before);
  });

  it("when credentials come inside metadata, then they are sealed with the secrets, stored as ciphertext only and never answered", async () => {
    const token = "tok_sent-inside-metadata-0123456789";
    const signingSecret = `whsec_${randomBytes(32).toString("base64")}`;
    const created = await newConnection(
      webhookInput({ metadata: { url: hookUrl, auth_scheme: "bearer", token, signing_secret: signingSecret }, hidden: true }),
    );
    const id = created.connection.id;
    // Nothing was generated (the client sent its signing secret), so nothing is shown.
    expect(created.secrets).toEqual({});
    expect(created.connection).toMatchObject({ hidden: true, metadata: { url: hookUrl, auth_scheme: "bearer" } });

    const stored = await storedConfig(id);
    expect(stored.metadata).not.toHaveProperty("token");
    expect(stored.metadata).not.toHaveProperty("signing_secret");
    expect(stored.secrets_ciphertext).not.toContain(token);
    expect(stored.secrets).toMatchObject({ token, signing_secret: signingSecret });
    expect(stored).toMatchObject({ hidden: true, created_by: tenant.machine.accessKey });

    const headers = await auth();
    const read = await getConnection({ client: server.client, headers, path: { id } });
    const listed = await listConnections({ client: server.client, headers, query: { limit: 200 } });
    for (const answer of [created, read.data, listed.data]) {
      expect(JSON.stringify(answer)).not.toContain(token);
      expect(JSON.stringify(answer)).not.toContain(signingSecret);
    }
  });

  it("when an update sends back the metadata it read, with or without a new credential inside, then the credentials are kept or replaced", async () => {
    const created = await newConnection(webhookInput({ metadata: { url: hookUrl, auth_scheme: "bearer", token: "tok_first-one-0123" } }));
    const id = created.connection.id;
    const headers = await auth();
    // What Meshes' client sends: the name and the whole metadata, which never holds a credential when read.
    const renamed = await updateConnection({
      client: server.client,
      headers,
      path: { id },
      body: { name: "Renamed", metadata: created.connection.metadata },
    });
    expect(renamed.response?.status).toBe(200);
    expect((await storedConfig(id)).secrets).toMatchObject({ token: "tok_first-one-0123" });

    const replaced = await updateConnection({
      client: server.client,
      headers,
      path: { id },
      body: { name: "Renamed", metadata: { ...created.connection.metadata, token: "tok_second-one-4567" }, hidden: true },
    });
    expect(replaced.data).toMatchObject({ name: "Renamed", hidden: true });
    expect(JSON.stringify(replaced.data)).not.toContain("tok_second-one-4567");
    const stored = await storedConfig(id);
    expect(stored.secrets).toMatchObject({ token: "tok_second-one-4567" });
    expect(stored.secrets.signing_secret).toBe(created.secrets.signing_secret);
  });

  it("when the same credential is sent in metadata and in secrets with different values, then it answers 400 and changes nothing", async () => {
    const before = await listedConnectionIds();
    const { error, response } = await createConnection({
      client: server.client,
      headers: await auth(),
      body: webhookInput({ metadata: { url: hookUrl, auth_scheme: "bearer", token: "tok_a-0123" }, secrets: { token: "tok_b-0123" } }),
    });
    expect(response?.status).toBe(400);
    expect(error?.error.data).toEqual([{ param: "metadata.token", msg: expect.stringMatching(/differs from secrets.token/) }]);
    expect(await listedConnectionIds()).toEqual(before);
  });

  it("when a credential in metadata is not one the auth scheme uses, then it is refused like one sent in secrets", async () => {
    const { error, response } = await createConnection({
      client: server.client,
      headers: await auth(),
      body: webhookInput({ metadata: { url: hookUrl, password: "hunter2" } }),
    });
    expect(response?.status).toBe(422);
    expect(error?.error.data?.map((d) => d.param)).toEqual(["secrets.password"]);
    expect(JSON.stringify(error)).not.toContain("hunter2");
  });
});

describe("deleting a connection", () => {
  /** DELETE as a raw request, to control its body and Content-Type exactly. */
  async function rawDelete(id: string, options: { body?: string; query?: string; json?: boolean } = {}) {
    const response = await fetch(`${server.baseUrl}/api/v1/connections/${id}${options.query ?? ""}`, {
      method: "DELETE",
      headers: { ...(await auth()), ...(options.json === false ? {} : { "Content-Type": "application/json" }) },
      body: options.body ?? null,
    });
    return { status: response.status, body: (await response.json()) as unknown };
  }

  async function connectionWithRule() {
    const connection = await newConnection();
    const rule = await newRule({ connection: connection.connection.id, event: "order.placed", metadata: { action: "send_webhook" } });
    return { id: connection.connection.id, ruleId: rule.id };
  }

  it.each([
    ["a JSON body", { body: JSON.stringify({ force_delete: true }) }],
    ["the query", { query: "?force_delete=true" }],
  ])("when force_delete comes in %s, then the connection is deleted and its active rules are deactivated", async (_where, how) => {
    const { id, ruleId } = await connectionWithRule();
    const deleted = await rawDelete(id, how);
    expect(deleted).toEqual({ status: 200, body: { id, type: "webhook" } });
    const headers = await auth();
    expect((await getConnection({ client: server.client, headers, path: { id } })).response?.status).toBe(404);
    expect((await getRule({ client: server.client, headers, path: { id: ruleId } })).data).toMatchObject({ id: ruleId, active: false });
  });

  it.each([
    ["no body, with Content-Type: application/json", {}],
    ["no body and no Content-Type", { json: false }],
    ["an empty JSON object", { body: "{}" }],
    ["force_delete: false", { body: JSON.stringify({ force_delete: false }) }],
  ])("when a DELETE of a connection that active rules use has %s, then it answers 409 and changes nothing", async (_what, how) => {
    const { id, ruleId } = await connectionWithRule();
    const refused = await rawDelete(id, how);
    expect(refused).toMatchObject({ status: 409, body: { error: { name: "Conflict" } } });
    const headers = await auth();
    expect((await getConnection({ client: server.client, headers, path: { id } })).response?.status).toBe(200);
    expect((await getRule({ client: server.client, headers, path: { id: ruleId } })).data?.active).toBe(true);
  });

  it("when a DELETE without a body names a connection no rule uses, then it is deleted", async () => {
    const created = await newConnection();
    expect(await rawDelete(created.connection.id)).toEqual({ status: 200, body: { id: created.connection.id, type: "webhook" } });
  });

  it.each([
    ["force_delete that is not a boolean", { body: JSON.stringify({ force_delete: "yes" }) }, "force_delete"],
    ["an unknown field", { body: JSON.stringify({ cascade: true }) }, "cascade"],
    ["a body that is not JSON", { body: "force" }, undefined],
  ])("when a DELETE has %s, then it answers 400 and deletes nothing", async (_what, how, param) => {
    const { id } = await connectionWithRule();
    const refused = await rawDelete(id, how);
    expect(refused).toMatchObject({ status: 400, body: { error: { name: "BadRequest" } } });
    if (param !== undefined) expect(JSON.stringify(refused.body)).toContain(param);
    expect((await getConnection({ client: server.client, headers: await auth(), path: { id } })).response?.status).toBe(200);
  });

  it("when another organization force-deletes the connection, then it answers 404 and neither it nor its rule changes", async () => {
    const { id, ruleId } = await connectionWithRule();
    const { response } = await deleteConnection({
      client: server.client,
      headers: await bearer(stranger.machine),
      path: { id },
      body: { force_delete: true },
    });
    expect(response?.status).toBe(404);
    const headers = await auth();
    expect((await getConnection({ client: server.client, headers, path: { id } })).response?.status).toBe(200);
    expect((await getRule({ client: server.client, headers, path: { id: ruleId } })).data?.active).toBe(true);
  });
});

describe("rules API", () => {
  it("when a rule is created, then GET and every list answer it, and the filters select it", async () => {
    const org = await createTenant(server.db, server.secretBox, "Router");
    const headers = await bearer(org.machine);
    const connection = await newConnection(webhookInput({}, org), org);
    const rule = await newRule(
      { connection: connection.connection.id, event: "invoice.paid", resource: "invoice", metadata: { action: "send_webhook" } },
      org,
    );
    expect(rule).toMatchObject({
      type: "webhook",
      workspace: org.workspaceId,
      connection: connection.connection.id,
      event: "invoice.paid",
      resource: "invoice",
      metadata: { action: "send_webhook" },
      active: true,
      hidden: false,
      created_by: org.machine.accessKey,
    });
    // Meshes leaves out the filters a rule does not have, rather than answering null.
    expect(rule).not.toHaveProperty("resource_id");
    expect(rule.updated_at).toBe(rule.created_at);
    const other = await newRule(
      { connection: connection.connection.id, event: "contact.created", metadata: { action: "send_webhook" } },
      org,
    );

    expect((await getRule({ client: server.client, headers, path: { id: rule.id } })).data).toEqual(rule);
    expect((await listRules({ client: server.client, headers })).data?.records).toEqual([rule, other]);
    expect((await listRules({ client: server.client, headers, query: { event: "invoice.paid" } })).data?.records).toEqual([rule]);
    expect((await listRules({ client: server.client, headers, query: { resource: "invoice" } })).data?.records).toEqual([rule]);
    expect(
      (await listWorkspaceRules({ client: server.client, headers, path: { id: org.workspaceId }, query: { event: "contact.created" } }))
        .data?.records,
    ).toEqual([other]);
  });

  it("when a rule names the webhook's former action send, then it is accepted and stored as send_webhook", async () => {
    const connection = await newConnection();
    const rule = await newRule({ connection: connection.connection.id, event: "legacy.action", metadata: { action: "send" } });
    expect(rule.metadata).toEqual({ action: "send_webhook" });
    const row = await server.db.selectFrom("rules").select("metadata").where("id", "=", rule.id).executeTakeFirstOrThrow();
    expect(row.metadata).toEqual({ action: "send_webhook" });
  });

  it("when the action is not one the integration offers, then it answers 422 and stores nothing", async () => {
    const connection = await newConnection();
    const before = await listedRuleIds();
    const { error, response } = await createRule({
      client: server.client,
      headers: await auth(),
      body: { connection: connection.connection.id, event: "a", metadata: { action: "teleport" } },
    });
    expect(response?.status).toBe(422);
    expect(error?.error).toMatchObject({
      name: "UnprocessableEntity",
      data: [{ param: "metadata.action", msg: "must be one of: send_webhook" }],
    });
    expect(await listedRuleIds()).toEqual(before);
  });

  it("when the rule names a workspace other than its connection's, then it answers 422 and stores nothing", async () => {
    const connection = await newConnection();
    const second = await createWorkspace(server.db, tenant.organizationId, "Elsewhere");
    const before = await listedRuleIds();
    const { error, response } = await createRule({
      client: server.client,
      headers: await auth(),
      body: { connection: connection.connection.id, workspace: second.workspace.id, event: "a", metadata: { action: "send_webhook" } },
    });
    expect(response?.status).toBe(422);
    expect(error?.error.data?.map((d) => d.param)).toEqual(["connection"]);
    expect(await listedRuleIds()).toEqual(before);
  });

  it("when the connection is another organization's, then it answers 404 and stores nothing", async () => {
    const foreign = await newConnection(webhookInput({}, stranger), stranger);
    const before = await listedRuleIds(stranger);
    const { error, response } = await createRule({
      client: server.client,
      headers: await auth(),
      body: { connection: foreign.connection.id, event: "a", metadata: { action: "send_webhook" } },
    });
    expect(response?.status).toBe(404);
    expect(error?.error.name).toBe("NotFound");
    expect(await listedRuleIds(stranger)).toEqual(before);
  });

  it("when the body has an unknown field, then it answers 400", async () => {
    const connection = await newConnection();
    const { response } = await createRule({
      client: server.client,
      headers: await auth(),
      body: { connection: connection.connection.id, event: "a", metadata: { action: "send_webhook" }, priority: 1 } as RuleInput,
    });
    expect(response?.status).toBe(400);
  });

  it("when an active rule uses a connection, then deleting the connection answers 409 until the rule is deleted", async () => {
    const connection = await newConnection();
    const id = connection.connection.id;
    const rule = await newRule({ connection: id, event: "order.placed", metadata: { action: "send_webhook" } });
    const headers = await auth();

    const refused = await deleteConnection({ client: server.client, headers, path: { id } });
    expect(refused.response?.status).toBe(409);
    expect(refused.error).toMatchObject({ message: "Conflict", error: { name: "Conflict" } });
    expect((await getConnection({ client: server.client, headers, path: { id } })).response?.status).toBe(200);

    const ruleDeleted = await deleteRule({ client: server.client, headers, path: { id: rule.id } });
    expect(ruleDeleted.response?.status).toBe(200);
    expect(ruleDeleted.data).toEqual({ id: rule.id, connection: rule.connection, type: "webhook", event: rule.event });
    expect((await getRule({ client: server.client, headers, path: { id: rule.id } })).response?.status).toBe(404);
    expect(await listedRuleIds()).not.toContain(rule.id);

    const deleted = await deleteConnection({ client: server.client, headers, path: { id } });
    expect(deleted.response?.status).toBe(200);
    expect(deleted.data).toEqual({ id, type: "webhook" });
    const gone = await getConnection({ client: server.client, headers, path: { id } });
    expect(gone.response?.status).toBe(404);
    expect(gone.error?.error.name).toBe("NotFound");
    expect(await listedConnectionIds()).not.toContain(id);
    expect((await deleteConnection({ client: server.client, headers, path: { id } })).response?.status).toBe(404);
  });

  it("when a rule's connection was deleted, then a new rule cannot use it", async () => {
    const connection = await newConnection();
    const headers = await auth();
    expect((await deleteConnection({ client: server.client, headers, path: { id: connection.connection.id } })).response?.status).toBe(200);
    const { response } = await createRule({
      client: server.client,
      headers,
      body: { connection: connection.connection.id, event: "a", metadata: { action: "send_webhook" } },
    });
    expect(response?.status).toBe(404);
  });
});

describe("integrations API", () => {
  it("when integrations are listed, then the webhook describes itself in Meshes' shape, with its send_webhook action and its schemas", async () => {
    const { data, response } = await listIntegrations({ client: server.client, headers: await auth() });
    expect(response?.status).toBe(200);
    expect(data).toMatchObject({ count: data?.records.length, limit: 50, next_cursor: null });
    expect(data?.records.map((i) => i.type)).toEqual(expect.arrayContaining(["discord", "slack", "webhook"]));
    const webhook = data?.records.find((i) => i.type === "webhook");
    expect(webhook).toMatchObject({
      id: "webhook",
      type: "webhook",
      name: "Webhook",
      authentication: { type: "none" },
      actions: { send_webhook: { key: "send_webhook", label: "Send webhook", noun: "Webhook" } },
    });
    expect(Object.keys(webhook?.actions ?? {})).toEqual(["send_webhook"]);
    expect(webhook?.authentication.fields?.map((f) => f.key)).toEqual(
      expect.arrayContaining(["url", "auth_scheme", "token", "signing_secret"]),
    );
    expect(webhook?.metadata_schema).toMatchObject({ type: "object", required: ["url"] });
    expect(webhook?.secrets_schema).toMatchObject({ type: "object" });
  });

  it("when integrations are listed, then Slack and Discord describe their OAuth and their send_message inputs, templates marked", async () => {
    const { data } = await listIntegrations({ client: server.client, headers: await auth() });
    const slack = data?.records.find((i) => i.type === "slack");
    const discord = data?.records.find((i) => i.type === "discord");
    expect(slack?.authentication).toEqual({ type: "oauth", oauth: { version: 2 } });
    expect(slack?.actions.send_message?.data?.map((d) => [d.field, d.kind, d.type, d.template])).toEqual([
      ["id", "simple", undefined, undefined],
      ["template", "field", "textarea", true],
    ]);
    expect(discord?.actions.send_message?.data?.map((d) => [d.field, d.kind, d.type, d.template])).toEqual([
      ["id", "simple", undefined, undefined],
      ["title", "field", "textarea", true],
      ["template", "field", "textarea", true],
    ]);
    expect(discord?.metadata_schema).toMatchObject({ required: ["guild_id"] });
  });

  it("when integrations are listed, then update_property is one advanced input whose option is the value, a template", async () => {
    const { data } = await listIntegrations({ client: server.client, headers: await auth() });
    for (const type of ["hubspot", "salesforce"]) {
      const inputs = data?.records.find((i) => i.type === type)?.actions.update_property?.data;
      expect(inputs).toHaveLength(1);
      expect(inputs?.[0]).toMatchObject({ field: "id", kind: "advanced", required: true });
      expect(inputs?.[0]?.options).toMatchObject({ field: "value", type: "select", entity: "option", length: 1, template: true });
    }
  });

  it("when integrations are paged, then the cursor of a full page leads past it and a foreign cursor is refused", async () => {
    const headers = await auth();
    const all = (await listIntegrations({ client: server.client, headers })).data?.records.map((i) => i.type) ?? [];
    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listIntegrations({
        client: server.client,
        headers,
        query: { limit: 1, ...(cursor === undefined ? {} : { cursor }) },
      });
      expect(page.data).toMatchObject({ count: 1, limit: 1 });
      walked.push(...(page.data?.records.map((i) => i.type) ?? []));
      cursor = page.data?.next_cursor ?? undefined;
    } while (cursor !== undefined && walked.length <= all.length);
    expect(walked).toEqual(all);
    const madeUp = await listIntegrations({ client: server.client, headers, query: { cursor: Buffer.from("../x").toString("base64url") } });
    expect(madeUp.response?.status).toBe(400);
    expect(madeUp.error?.error.data).toEqual([{ param: "cursor", msg: expect.any(String) }]);
    const past = await listIntegrations({
      client: server.client,
      headers,
      query: { cursor: Buffer.from("webhook").toString("base64url") },
    });
    expect(past.data).toMatchObject({ count: 0, next_cursor: null, records: [] });
  });

  it("when a publishable key asks, then it answers 401", async () => {
    const { response } = await listIntegrations({ client: server.client, headers: { "X-Meshes-Publishable-Key": tenant.publishableKey } });
    expect(response?.status).toBe(401);
  });
});

describe("isolation", () => {
  let owner: Tenant;
  let connectionId: string;
  let ruleId: string;

  beforeAll(async () => {
    owner = await createTenant(server.db, server.secretBox, "Owner");
    const connection = await newConnection(webhookInput({}, owner), owner);
    connectionId = connection.connection.id;
    ruleId = (await newRule({ connection: connectionId, event: "private", metadata: { action: "send_webhook" } }, owner)).id;
  });

  it("when another organization names the owner's connection or rule, then every endpoint answers 404 and nothing changes", async () => {
    const headers = await bearer(stranger.machine);
    const path = { id: connectionId };
    const answers = [
      await getConnection({ client: server.client, headers, path }),
      await updateConnection({ client: server.client, headers, path, body: { name: "hijacked" } }),
      await updateConnection({ client: server.client, headers, path, body: { active: false } }),
      await rotateSigningSecret({ client: server.client, headers, path }),
      await deleteConnection({ client: server.client, headers, path }),
      await getRule({ client: server.client, headers, path: { id: ruleId } }),
      await deleteRule({ client: server.client, headers, path: { id: ruleId } }),
      await listWorkspaceConnections({ client: server.client, headers, path: { id: owner.workspaceId } }),
      await listWorkspaceRules({ client: server.client, headers, path: { id: owner.workspaceId } }),
      await listConnections({ client: server.client, headers, query: { workspace: owner.workspaceId } }),
      await listRules({ client: server.client, headers, query: { workspace: owner.workspaceId } }),
    ];
    expect(answers.map((a) => a.response?.status)).toEqual(answers.map(() => 404));
    for (const answer of answers) expect(answer.error?.error.name).toBe("NotFound");

    const ownerHeaders = await bearer(owner.machine);
    const kept = await getConnection({ client: server.client, headers: ownerHeaders, path });
    expect(kept.data).toMatchObject({ name: "CRM sync", active: true });
    expect((await getRule({ client: server.client, headers: ownerHeaders, path: { id: ruleId } })).data?.active).toBe(true);
  });

  it("when another organization lists everything it can see, then the owner's connection and rule are not among them", async () => {
    expect(await listedConnectionIds(stranger)).not.toContain(connectionId);
    expect(await listedRuleIds(stranger)).not.toContain(ruleId);
    expect(await listedConnectionIds(owner)).toEqual([connectionId]);
    expect(await listedRuleIds(owner)).toEqual([ruleId]);
  });

  it("when one workspace of an organization is listed, then another workspace's connections and rules are not in it", async () => {
    const second = await createWorkspace(server.db, owner.organizationId, "Other");
    const headers = await bearer(owner.machine);
    const connections = await listWorkspaceConnections({ client: server.client, headers, path: { id: second.workspace.id } });
    const rules = await listWorkspaceRules({ client: server.client, headers, path: { id: second.workspace.id } });
    expect(connections.data?.records).toEqual([]);
    expect(rules.data?.records).toEqual([]);
    expect((await listRules({ client: server.client, headers, query: { workspace: second.workspace.id } })).data?.records).toEqual([]);
  });
});
