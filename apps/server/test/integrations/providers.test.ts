import {
  createConnection,
  createRule,
  getConnectionActions,
  getConnectionDefaultMapping,
  getConnectionFields,
  type MappingField,
  updateConnectionDefaultMapping,
} from "@switchyard/client";
import { type HubSpotFake, type SlackFake, slackFakeToken, startHubSpotFake, startSlackFake } from "@switchyard/destinations/fakes";
import { waitFor } from "@switchyard/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "../support/fixtures.js";
import type { TestServer } from "../support/testServer.js";
import { useTestServer } from "../support/useTestServer.js";
import { attemptsOf, emitEvent, eventDetail } from "../support/webhookRoutes.js";

// Issue 17's "done when", as a new user meets it: connections to Slack and HubSpot (their local fakes), rules with
// a template and a mapping, events emitted with the publishable key, and what reached the provider.
let server: TestServer;
let tenant: Tenant;
let slack: SlackFake;
let hubspot: HubSpotFake;

const file = useTestServer({ server: false });

beforeAll(async () => {
  slack = await startSlackFake();
  hubspot = await startHubSpotFake();
  file.closers.push(slack.close, hubspot.close);
  const providers = new Map([
    ["slack", { apiUrl: slack.origin }],
    ["hubspot", { apiUrl: hubspot.origin }],
  ]);
  server = await file.startServer({ providers, worker: { providers } });
  tenant = await createTenant(server.db, server.secretBox, "Integrations");
});

async function connect(type: "slack" | "hubspot", accessToken: string): Promise<string> {
  const { data, error } = await createConnection({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: { workspace: tenant.workspaceId, type, name: `${type} for tests`, metadata: {}, secrets: { access_token: accessToken } },
  });
  if (data === undefined) throw new Error(`connection refused: ${JSON.stringify(error)}`);
  return data.connection.id;
}

async function rule(connection: string, event: string, metadata: Record<string, string>) {
  return createRule({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: { connection, event, metadata: metadata as { action: string } },
  });
}

async function ruleId(connection: string, event: string, metadata: Record<string, string>): Promise<string> {
  const { data, error } = await rule(connection, event, metadata);
  if (data === undefined) throw new Error(`rule refused: ${JSON.stringify(error)}`);
  return data.rule.id;
}

const settled = (id: string) =>
  waitFor(() => eventDetail(server, tenant, id), {
    what: `event ${id} to settle`,
    until: (e) => e.status === "completed" || e.status === "failed",
  });

describe("Slack", () => {
  it("when a Slack rule has a template, then an emitted event reaches the channel as the rendered message", async () => {
    const connection = await connect("slack", slackFakeToken);
    await ruleId(connection, "signup.slack", {
      action: "send_message",
      id: "C0GENERAL1",
      template: "New signup: {{first_name}} {{last_name}} <{{email}}> on {{plan.tier}}",
    });
    const event = await emitEvent(server, tenant, {
      event: "signup.slack",
      payload: { email: "ada@example.com", first_name: "Ada", last_name: "Lovelace", plan: { tier: "pro" } },
    });
    expect((await settled(event.id)).status).toBe("completed");
    expect(slack.messages).toContainEqual({ channel: "C0GENERAL1", text: "New signup: Ada Lovelace <ada@example.com> on pro" });
    const post = slack.requests.find((r) => r.path === "/chat.postMessage");
    expect(post?.headers.authorization).toBe(`Bearer ${slackFakeToken}`);
  });

  it("when the connection's actions are asked for, then Slack's channels are the send_message items", async () => {
    const connection = await connect("slack", slackFakeToken);
    const { data } = await getConnectionActions({ client: server.client, headers: await bearer(tenant.machine), path: { id: connection } });
    const ids = data?.actions.send_message?.items.map((item) => item.id);
    expect(ids).toEqual(expect.arrayContaining(["C0GENERAL1", "C0ALERTS01", "G0PRIVATE1"]));
  });

  it("when a rule's template is missing or does not compile, then it is refused 422 naming metadata.template, and nothing is stored", async () => {
    const connection = await connect("slack", slackFakeToken);
    const missing = await rule(connection, "refused.slack", { action: "send_message", id: "C0GENERAL1" });
    expect(missing.response?.status).toBe(422);
    expect(missing.error).toMatchObject({ error: { data: [{ param: "metadata.template" }] } });
    const broken = await rule(connection, "refused.slack", { action: "send_message", id: "C0GENERAL1", template: "Hi {{ first_name" });
    expect(broken.response?.status).toBe(422);
    expect(broken.error).toMatchObject({ error: { data: [{ param: "metadata.template" }] } });
    const stored = await server.db.selectFrom("rules").select("id").where("event", "=", "refused.slack").execute();
    expect(stored).toEqual([]);
  });
});

describe("HubSpot", () => {
  it("when a HubSpot rule adds to a list, then the contact is upserted with the mapped properties and joins the list", async () => {
    const connection = await connect("hubspot", hubspot.accessToken);
    const headers = await bearer(tenant.machine);
    const generated = await getConnectionDefaultMapping({ client: server.client, headers, path: { id: connection } });
    expect(generated.data?.status).toBe("generated");
    const fields = generated.data?.mapping.schema.fields ?? [];
    expect(fields.map((f) => f.dest)).toEqual(expect.arrayContaining(["email", "firstname", "lastname", "phone"]));
    const extra: MappingField[] = [
      { dest: "lifecyclestage", source: { type: "literal", value: "lead" } },
      { dest: "score", source: { type: "path", value: "score" }, transforms: [{ type: "to_string" }] },
    ];
    const stored = await updateConnectionDefaultMapping({
      client: server.client,
      headers,
      path: { id: connection },
      body: { schema: { schema_version: 1, fields: [...fields, ...extra] }, expected_version: generated.data?.mapping.version ?? 1 },
    });
    expect(stored.response?.status).toBe(200);
    await ruleId(connection, "signup.hubspot", { action: "add_to_list", id: "101" });
    const event = await emitEvent(server, tenant, {
      event: "signup.hubspot",
      payload: { email: "Grace@Example.com", first_name: "Grace", last_name: "Hopper", score: 92 },
    });
    expect((await settled(event.id)).status).toBe("completed");
    const contact = hubspot.contacts.get("grace@example.com");
    expect(contact?.properties).toMatchObject({ firstname: "Grace", lastname: "Hopper", lifecyclestage: "lead", score: "92" });
    expect(hubspot.lists.get("101")?.members.has(contact?.id ?? "")).toBe(true);
  });

  it("when the event has no email, then the attempt is a final mapping_error naming the field, and HubSpot gets nothing", async () => {
    const connection = await connect("hubspot", hubspot.accessToken);
    const id = await ruleId(connection, "signup.noemail", { action: "add_to_list", id: "101" });
    const before = hubspot.requests.length;
    const event = await emitEvent(server, tenant, { event: "signup.noemail", payload: { first_name: "Nobody" } });
    expect((await settled(event.id)).status).toBe("failed");
    const attempts = await attemptsOf(server, tenant, event.id, id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome_code: "mapping_error", http_status: null, next_attempt_at: null });
    expect(attempts[0]?.error).toContain("email");
    expect(hubspot.requests.length).toBe(before);
  });

  it("when HubSpot answers 401, then the attempt is auth_failed and final", async () => {
    const connection = await connect("hubspot", hubspot.accessToken);
    const id = await ruleId(connection, "signup.expired", { action: "add_to_list", id: "101" });
    hubspot.failNext("unauthorized");
    const event = await emitEvent(server, tenant, { event: "signup.expired", payload: { email: "alan@example.com" } });
    expect((await settled(event.id)).status).toBe("failed");
    const attempts = await attemptsOf(server, tenant, event.id, id);
    expect(attempts.map((a) => [a.outcome_code, a.http_status])).toEqual([["auth_failed", 401]]);
    expect(JSON.stringify(attempts[0]?.request)).not.toContain(hubspot.accessToken);
  });

  it("when the fields are refreshed, then HubSpot's writable contact properties come back; when HubSpot fails, the answer is 502", async () => {
    const connection = await connect("hubspot", hubspot.accessToken);
    const headers = await bearer(tenant.machine);
    const fields = await getConnectionFields({ client: server.client, headers, path: { id: connection }, query: { refresh: true } });
    const keys = fields.data?.fields.map((f) => f.key) ?? [];
    expect(keys).toEqual(expect.arrayContaining(["email", "firstname", "lifecyclestage", "score"]));
    hubspot.failNext("server_error", { path: "/properties" });
    const failing = await getConnectionFields({ client: server.client, headers, path: { id: connection }, query: { refresh: true } });
    expect(failing.response?.status).toBe(502);
    expect(failing.error).toMatchObject({ error: { name: "BadGateway" } });
  });
});
