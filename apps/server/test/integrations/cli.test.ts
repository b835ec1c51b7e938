import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MailchimpFake, mailchimpSubscriberHash, startMailchimpFake } from "@switchyard/destinations/fakes";
import { waitFor } from "@switchyard/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, type Tenant } from "../support/fixtures.js";
import { runCli } from "../support/runCli.js";
import type { TestServer } from "../support/testServer.js";
import { useTestServer } from "../support/useTestServer.js";
import { emitEvent, eventDetail } from "../support/webhookRoutes.js";

// A provider connection made the way the README shows, with the CLI (an API key, a mapping, a rule with its
// action's inputs), then an event through the running server to the provider's local fake.
const encryptionKey = randomBytes(32);

let server: TestServer;
let tenant: Tenant;
let mailchimp: MailchimpFake;
let dataDir: string;

const file = useTestServer({ server: false });

beforeAll(async () => {
  mailchimp = await startMailchimpFake();
  file.closers.push(mailchimp.close);
  const providers = new Map([["mailchimp", { apiUrl: mailchimp.apiUrl }]]);
  server = await file.startServer({ providers, worker: { providers }, encryptionKey });
  tenant = await createTenant(server.db, server.secretBox, "CLI integrations");
  dataDir = await mkdtemp(join(tmpdir(), "switchyard-cli-integrations-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli(
    {
      databaseUrl: file.databaseUrl,
      dataDir,
      env: {
        SWITCHYARD_ENCRYPTION_KEY: encryptionKey.toString("base64"),
        SWITCHYARD_SLACK_CLIENT_ID: "cli-test-client",
        SWITCHYARD_SLACK_CLIENT_SECRET: "cli-test-secret",
        SWITCHYARD_PUBLIC_URL: "https://switchyard.example.com",
      },
    },
    ...args,
  );

const org = () => ["--org", tenant.organizationId];

describe("provider connections from the CLI", () => {
  it("when a Mailchimp connection, its mapping and an add_to_list rule are made with the CLI, then an event upserts the member with the mapped merge fields", async () => {
    const created = await cli(
      ...["connection", "create", ...org(), "--workspace", tenant.workspaceId, "--type", "mailchimp"],
      ...["--name", "Newsletter", "--metadata", "{}", "--secrets", JSON.stringify({ api_key: mailchimp.apiKey })],
    );
    expect(created.code).toBe(0);
    const connection = JSON.parse(created.stdout).connection as { id: string; metadata: unknown };
    expect(connection.metadata).toEqual({ data_center: "us21" });
    expect(created.stdout).not.toContain(mailchimp.apiKey);
    const schema = {
      schema_version: 1,
      fields: [
        { dest: "email_address", source: { type: "path", value: "email" }, transforms: [{ type: "trim" }, { type: "lower" }] },
        { dest: "FNAME", source: { type: "path", value: "first_name" } },
        { dest: "LNAME", source: { type: "path", value: "last_name" }, transforms: [{ type: "upper" }] },
      ],
    };
    const mapped = await cli("mapping", "set", ...org(), "--connection", connection.id, "--schema", JSON.stringify(schema));
    expect(mapped.code).toBe(0);
    expect(JSON.parse(mapped.stdout)).toMatchObject({ status: "stored", mapping: { version: 2 } });
    const metadata = JSON.stringify({ action: "add_to_list", id: "list_1" });
    const rule = await cli("rule", "create", ...org(), "--connection", connection.id, "--event", "cli.signup", "--metadata", metadata);
    expect(rule.code).toBe(0);

    const event = await emitEvent(server, tenant, {
      event: "cli.signup",
      payload: { email: " Ada@Example.com ", first_name: "Ada", last_name: "Lovelace" },
    });
    const done = await waitFor(() => eventDetail(server, tenant, event.id), {
      what: "the Mailchimp delivery",
      until: (e) => e.status === "completed" || e.status === "failed",
    });
    expect(done.status).toBe("completed");
    const member = mailchimp.lists.get("list_1")?.members.get(mailchimpSubscriberHash("ada@example.com"));
    expect(member).toMatchObject({ email_address: "ada@example.com", merge_fields: { FNAME: "Ada", LNAME: "LOVELACE" } });
  });

  it("when a rule lacks its action's required input, or a mapping is not a MappingSchema, then the CLI refuses it and stores nothing", async () => {
    const created = await cli(
      ...["connection", "create", ...org(), "--workspace", tenant.workspaceId, "--type", "mailchimp"],
      ...["--metadata", "{}", "--secrets", JSON.stringify({ api_key: mailchimp.apiKey })],
    );
    const connection = JSON.parse(created.stdout).connection as { id: string };
    const refused = await cli(
      "rule",
      "create",
      ...org(),
      "--connection",
      connection.id,
      "--event",
      "cli.refused",
      "--metadata",
      '{"action": "add_to_list"}',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("metadata.id");
    const badSchema = await cli("mapping", "set", ...org(), "--connection", connection.id, "--schema", '{"fields": "none"}');
    expect(badSchema.code).not.toBe(0);
    expect(badSchema.stderr).toContain("--schema must be a MappingSchema");
    const rules = await server.db.selectFrom("rules").select("id").where("event", "=", "cli.refused").execute();
    expect(rules).toEqual([]);
  });

  it("when a Slack connection is started with the CLI, then it prints the authorize URL with PKCE, state and the public callback", async () => {
    const started = await cli("connection", "oauth", ...org(), "--workspace", tenant.workspaceId, "--type", "slack", "--name", "Alerts");
    expect(started.code).toBe(0);
    const answer = JSON.parse(started.stdout) as { authorize_url: string; redirect_uri: string };
    expect(answer.redirect_uri).toBe("https://switchyard.example.com/api/v1/oauth/callback");
    const url = new URL(answer.authorize_url);
    expect(url.origin + url.pathname).toBe("https://slack.com/oauth/v2/authorize");
    expect(url.searchParams.get("client_id")).toBe("cli-test-client");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("scope")).toContain("chat:write");
  });
});
