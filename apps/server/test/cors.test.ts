import { createEvent, createEventsBulk, listWorkspaces } from "@switchyard/client";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/config.js";
import { bearer, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

const appOrigin = "https://app.example.com";
// Ours, and every header Meshes' official events client sends.
const allowedHeaders = [
  "Content-Type",
  "Accept",
  "X-Meshes-Publishable-Key",
  "X-Meshes-Client",
  "Authorization",
  "Idempotency-Key",
  "X-Request-Id",
];
const exposedHeaders = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "X-Request-Id"];

let anyOrigin: TestServer;
let allowList: TestServer;
let tenant: Tenant;

useTestServer({ tenant: "Acme" }, async (file) => {
  ({ server: anyOrigin, tenant } = file);
  allowList = await file.startServer({ corsOrigins: [appOrigin, "http://localhost:5173"] });
});

/** What a browser sends before a cross-origin JSON POST with a publishable key. */
function preflight(server: TestServer, path: string, origin: string, method = "POST"): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "content-type,x-meshes-publishable-key",
    },
  });
}

const commaList = (value: string | null | undefined) => (value ?? "").split(",").map((v) => v.trim().toLowerCase());

describe("CORS on the ingestion endpoints", () => {
  it.each(["/api/v1/events", "/api/v1/events/bulk"])(
    "when a browser preflights POST %s from any origin, then it is approved for the ingestion headers, cached for 2 h",
    async (path) => {
      const response = await preflight(anyOrigin, path, "https://shop.example.org");
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(commaList(response.headers.get("access-control-allow-methods"))).toContain("post");
      expect(commaList(response.headers.get("access-control-allow-headers"))).toEqual(
        expect.arrayContaining(allowedHeaders.map((h) => h.toLowerCase())),
      );
      expect(response.headers.get("access-control-max-age")).toBe("7200");
    },
  );

  it("when a cross-origin POST succeeds, then the answer allows the origin and exposes the rate-limit and request-id headers", async () => {
    const { response } = await createEvent({
      client: anyOrigin.client,
      headers: { Origin: "https://shop.example.org", "X-Meshes-Publishable-Key": tenant.publishableKey },
      body: { event: "page.viewed", payload: {} },
    });
    expect(response?.status).toBe(201);
    expect(response?.headers.get("access-control-allow-origin")).toBe("*");
    expect(commaList(response?.headers.get("access-control-expose-headers"))).toEqual(
      expect.arrayContaining(exposedHeaders.map((h) => h.toLowerCase())),
    );
  });

  it("when a cross-origin POST is refused (401), then the error still carries CORS headers so the page can read it", async () => {
    const { error, response } = await createEventsBulk({
      client: anyOrigin.client,
      headers: { Origin: "https://shop.example.org" },
      body: [{ event: "page.viewed", payload: {} }],
    });
    expect(response?.status).toBe(401);
    expect(error?.error.name).toBe("Unauthorized");
    expect(response?.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("when the preflight asks for a method the endpoint does not take from browsers, then it is not approved", async () => {
    const response = await preflight(anyOrigin, "/api/v1/events", "https://shop.example.org", "DELETE");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS with an allow-list", () => {
  it("when a listed origin preflights, then it is approved for exactly that origin, varying on Origin", async () => {
    const response = await preflight(allowList, "/api/v1/events/bulk", appOrigin);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(appOrigin);
    expect(commaList(response.headers.get("vary"))).toContain("origin");
  });

  it.each([
    ["another origin", "https://evil.example.net"],
    ["a listed host on another scheme", "http://app.example.com"],
    ["a listed host on another port", "https://app.example.com:8443"],
  ])("when %s preflights, then it is not approved", async (_case, origin) => {
    const response = await preflight(allowList, "/api/v1/events", origin);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-methods")).toBeNull();
    expect(commaList(response.headers.get("vary"))).toContain("origin");
  });

  it("when an unlisted origin posts anyway, then the answer carries no CORS headers", async () => {
    const { response } = await createEvent({
      client: allowList.client,
      headers: { Origin: "https://evil.example.net", "X-Meshes-Publishable-Key": tenant.publishableKey },
      body: { event: "page.viewed", payload: {} },
    });
    expect(response?.headers.get("access-control-allow-origin")).toBeNull();
    expect(response?.headers.get("access-control-expose-headers")).toBeNull();
  });
});

describe("CORS on management endpoints", () => {
  it.each(["/api/v1/workspaces", "/api/v1/workspaces/0192f0c4-8e3a-7b8c-9d1e-2f3a4b5c6d7e"])(
    "when a browser preflights %s, then it is not approved",
    async (path) => {
      for (const method of ["GET", "POST", "PUT"]) {
        const response = await preflight(anyOrigin, path, "https://shop.example.org", method);
        expect(response.status).not.toBe(204);
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
      }
    },
  );

  it("when a listed origin preflights a management endpoint, then it is not approved either", async () => {
    const response = await preflight(allowList, "/api/v1/workspaces", appOrigin, "GET");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("when a management call carries an Origin, then it is answered without CORS headers", async () => {
    const { data, response } = await listWorkspaces({
      client: anyOrigin.client,
      headers: { Origin: "https://shop.example.org", ...(await bearer(tenant.machine)) },
    });
    expect(response?.status).toBe(200);
    expect(data?.records.map((w) => w.id)).toContain(tenant.workspaceId);
    expect(response?.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("SWITCHYARD_CORS_ORIGINS", () => {
  it.each([
    [undefined, "*"],
    ["*", "*"],
    [" https://app.example.com ", ["https://app.example.com"]],
    ["https://app.example.com,http://localhost:5173", ["https://app.example.com", "http://localhost:5173"]],
  ])("when it is %j, then the origins are %j", (value, expected) => {
    expect(parseConfig({ SWITCHYARD_CORS_ORIGINS: value }).corsOrigins).toEqual(expected);
  });

  it.each([
    ["a path", "https://app.example.com/"],
    ["a default port", "https://app.example.com:443"],
    ["upper case", "https://App.example.com"],
    ["no scheme", "app.example.com"],
    ["another scheme", "ftp://app.example.com"],
    ["a wildcard in a list", "*,https://app.example.com"],
    ["only commas", ","],
  ])("when it has %s, then parsing fails naming the variable", (_case, value) => {
    expect(() => parseConfig({ SWITCHYARD_CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => parseConfig({ SWITCHYARD_CORS_ORIGINS: value })).toThrow(/^SWITCHYARD_CORS_ORIGINS: /);
  });
});
