import { createCipheriv, randomBytes } from "node:crypto";
import { createConnection, getConnection, listWorkspaces, updateConnection } from "@switchyard/client";
import { describe, expect, it } from "vitest";
import { resealLegacySecrets } from "../src/runtime/resealLegacySecrets.js";
import { bearer, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

const encryptionKey = randomBytes(32);
let server: TestServer;
let tenant: Tenant;

useTestServer({ tenant: "Acme", encryptionKey }, (file) => {
  ({ server, tenant } = file);
});

/** A secret sealed as earlier versions sealed it: `v1`, no associated data. */
function sealV1(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

async function newConnection(name: string, token: string): Promise<string> {
  const created = await createConnection({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: {
      workspace: tenant.workspaceId,
      integration_type: "webhook",
      name,
      metadata: { url: "https://hooks.example.com/in", auth_scheme: "bearer" },
      secrets: { token },
    },
  });
  expect(created.response?.status).toBe(201);
  return created.data?.connection.id ?? "";
}

const secretsOf = async (id: string) =>
  (await server.db.selectFrom("connections").select("secrets_ciphertext").where("id", "=", id).executeTakeFirstOrThrow())
    .secrets_ciphertext;

describe("secrets at rest", () => {
  it("when a connection's sealed secrets are copied into another connection's row, then they no longer open there", async () => {
    const first = await newConnection("first", "token-of-first");
    const second = await newConnection("second", "token-of-second");
    await server.db
      .updateTable("connections")
      .set({ secrets_ciphertext: await secretsOf(first) })
      .where("id", "=", second)
      .execute();
    // Changing the second connection needs its secrets; the moved ones are refused, not used.
    const headers = await bearer(tenant.machine);
    const update = await updateConnection({
      client: server.client,
      headers,
      path: { id: second },
      body: { metadata: { url: "https://hooks.example.com/other" } },
    });
    expect(update.response?.status).toBe(500);
    // The first still opens where it belongs.
    const kept = await updateConnection({
      client: server.client,
      headers,
      path: { id: first },
      body: { metadata: { url: "https://hooks.example.com/again" } },
    });
    expect(kept.response?.status).toBe(200);
    expect((await getConnection({ client: server.client, headers, path: { id: first } })).data?.metadata).toMatchObject({
      url: "https://hooks.example.com/again",
    });
  });

  it("when secrets of the first form are in the database, then resealing binds each to its row and they keep working", async () => {
    const connection = await newConnection("legacy", "legacy-token");
    const machineSecret = tenant.machine.secretKey;
    await server.db
      .updateTable("connections")
      .set({
        secrets_ciphertext: sealV1(
          JSON.stringify({ token: "legacy-token", signing_secret: `whsec_${randomBytes(24).toString("base64")}` }),
        ),
      })
      .where("id", "=", connection)
      .execute();
    await server.db
      .updateTable("access_keys")
      .set({ secret_ciphertext: sealV1(machineSecret) })
      .where("id", "=", tenant.machine.accessKey)
      .execute();
    // Before: the current form is required, so the key's secret does not open (a server fault, logged as such).
    expect((await listWorkspaces({ client: server.client, headers: await bearer(tenant.machine) })).response?.status).toBe(500);

    expect(await resealLegacySecrets(server.db, server.secretBox)).toBe(2);
    expect(await secretsOf(connection)).toMatch(/^v2\./);
    expect((await listWorkspaces({ client: server.client, headers: await bearer(tenant.machine) })).response?.status).toBe(200);
    const headers = await bearer(tenant.machine);
    const update = await updateConnection({ client: server.client, headers, path: { id: connection }, body: { name: "legacy, resealed" } });
    expect(update.response?.status).toBe(200);
    // A second run finds nothing left to do.
    expect(await resealLegacySecrets(server.db, server.secretBox)).toBe(0);
  });
});
