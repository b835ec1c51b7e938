import { createEvent, listWorkspaces, mintMachineToken } from "@switchyard/client";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { revokeAccessKey } from "../src/organizations/accessKeys.repository.js";
import { createAccessKey } from "../src/organizations/organizations.service.js";
import { createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
let tenant: Tenant;
let other: Tenant;

useTestServer({ tenant: "Acme" }, async (file) => {
  ({ server, tenant } = file);
  other = await createTenant(server.db, server.secretBox, "Other");
});

const encoder = new TextEncoder();
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface TokenShape {
  alg?: string;
  kid?: string;
  secret?: string;
  claims?: Record<string, unknown>;
}

/** A token built field by field, so that each test can break exactly one thing. */
async function token(shape: TokenShape = {}): Promise<string> {
  const kid = shape.kid ?? tenant.machine.accessKey;
  const iat = nowSeconds();
  const claims = { iss: `urn:meshes:m2m:${kid}`, aud: "meshes-api", org: tenant.organizationId, iat, exp: iat + 30, ...shape.claims };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete claims[key as keyof typeof claims];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: shape.alg ?? "HS256", typ: "JWT", kid })
    .sign(encoder.encode(shape.secret ?? tenant.machine.secretKey));
}

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT", kid: tenant.machine.accessKey })}.${part(claims)}.`;
}

async function emitWith(jwt: string) {
  return createEvent({
    client: server.client,
    headers: { Authorization: `Bearer ${jwt}` },
    body: { event: "contact.created", payload: {}, workspace: tenant.workspaceId },
  });
}

describe("machine JWT", () => {
  it("when the token is minted as the SDK mints it, then the request is accepted", async () => {
    const { response } = await emitWith(await mintMachineToken(tenant.machine));
    expect(response?.status).toBe(201);
  });

  it("when the token is built by hand as Meshes specifies it (HS256, kid = access key, iss, aud meshes-api, org, a 30 s lifetime), then the request is accepted", async () => {
    const { response } = await emitWith(await token());
    expect(response?.status).toBe(201);
  });

  it.each<[string, () => Promise<string>]>([
    [
      "alg none",
      async () =>
        unsigned({
          iss: `urn:meshes:m2m:${tenant.machine.accessKey}`,
          aud: "meshes-api",
          org: tenant.organizationId,
          iat: nowSeconds(),
          exp: nowSeconds() + 30,
        }),
    ],
    ["alg HS512 with the right secret", () => token({ alg: "HS512" })],
    ["a signature made with another secret", () => token({ secret: "x".repeat(43) })],
    ["an unknown kid", () => token({ kid: "mk_unknownunknownunknown00" })],
    ["a kid that is not an access key", () => token({ kid: "someone" })],
    ["an iss naming another key", () => token({ claims: { iss: "urn:meshes:m2m:mk_anotheranotheranother00" } })],
    ["a missing iss", () => token({ claims: { iss: undefined } })],
    ["a wrong aud", () => token({ claims: { aud: "other-api" } })],
    ["another organization's org", () => token({ claims: { org: other.organizationId } })],
    ["a missing org", () => token({ claims: { org: undefined } })],
    ["an expired token", () => token({ claims: { iat: nowSeconds() - 120, exp: nowSeconds() - 60 } })],
    ["a lifetime over 60 s", () => token({ claims: { iat: nowSeconds(), exp: nowSeconds() + 61 } })],
    ["an iat in the future beyond the skew", () => token({ claims: { iat: nowSeconds() + 60, exp: nowSeconds() + 90 } })],
    ["a missing exp", () => token({ claims: { exp: undefined } })],
    ["a missing iat", () => token({ claims: { iat: undefined } })],
    ["a truncated signature", async () => (await token()).slice(0, -5)],
  ])("when the token has %s, then it answers 401 in the envelope and stores nothing", async (_case, make) => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const { error, response } = await emitWith(await make());
    expect(response?.status).toBe(401);
    expect(error).toMatchObject({ message: "Unauthorized", error: { name: "Unauthorized" } });
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before);
  });

  it("when the access key has been revoked, then its tokens are refused", async () => {
    const key = await createAccessKey(server.db, server.secretBox, tenant.organizationId, "short-lived");
    const credentials = { accessKey: key.accessKey, secretKey: key.secretKey, organizationId: tenant.organizationId };
    expect((await emitWith(await mintMachineToken(credentials))).response?.status).toBe(201);
    await revokeAccessKey(server.db, key.accessKey);
    const { response } = await emitWith(await mintMachineToken(credentials));
    expect(response?.status).toBe(401);
  });

  it("when a token's iat is within the clock skew ahead, then it is accepted", async () => {
    const iat = nowSeconds() + 3;
    const { response } = await emitWith(await token({ claims: { iat, exp: iat + 30 } }));
    expect(response?.status).toBe(201);
  });

  it("when a publishable key calls a management endpoint, then it answers 401", async () => {
    const { error, response } = await listWorkspaces({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": tenant.publishableKey },
    });
    expect(response?.status).toBe(401);
    expect(error?.error.name).toBe("Unauthorized");
  });
});
