import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { storedEvents, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

/** Debian's Chromium (`apt-get install chromium`); .ci/run installs it, so in CI its absence is a failure. */
const chromiumPath = "/usr/bin/chromium";
const skipReason =
  !existsSync(chromiumPath) && !process.env.CI
    ? `${chromiumPath} is missing (apt-get install -y chromium); the real-browser CORS test is skipped outside CI`
    : undefined;
if (skipReason !== undefined) console.warn(`browser.test.ts: ${skipReason}`);

/** The client package's built ESM, served as is: it uses nothing but fetch. */
const clientDist = dirname(fileURLToPath(import.meta.resolve("@switchyard/client")));

/**
 * The page a site would embed: it emits a batch through EventsClient with the publishable key, then tries
 * the management API, and leaves what happened in `switchyardResult`.
 */
const pageHtml = `<!doctype html>
<meta charset="utf-8">
<title>Switchyard from another origin</title>
<script type="module">
  import { EventsClient } from "/client/index.js";
  const params = new URLSearchParams(location.search);
  const api = params.get("api");
  const result = {};
  try {
    const answers = [];
    const recordingFetch = async (input, init) => {
      const response = await fetch(input, init);
      answers.push({ status: response.status, rateLimitRemaining: response.headers.get("RateLimit-Remaining") });
      return response;
    };
    const client = new EventsClient({ baseUrl: api, publishableKey: params.get("key"), fetch: recordingFetch });
    const batch = await client.emitBatch([
      { event: "page.viewed", payload: { path: "/pricing" } },
      { event: "button.clicked", resource: "button", resource_id: "buy", payload: {} },
      { event: "form.submitted", payload: { fields: 3 } },
    ]);
    result.batch = { answers, count: batch.count, errorCount: batch.error_count, ids: batch.records.map((r) => r.id) };
  } catch (error) {
    result.batch = { thrown: String(error) };
  }
  // Exactly what Meshes' official events client (@mesheshq/events) sends for emit({ ... }, { query }): its
  // base URL + "/events" + the query, and its fixed headers, X-Meshes-Client among them.
  try {
    const response = await fetch(api + "/api/v1/events?source=landing", {
      method: "POST",
      headers: {
        "X-Meshes-Client": "Meshes Events Client v1.0.0",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Meshes-Publishable-Key": params.get("key"),
      },
      body: JSON.stringify({ event: "sdk.emitted", payload: { via: "meshes-sdk" } }),
    });
    result.sdk = { status: response.status };
  } catch (error) {
    result.sdk = { thrown: String(error) };
  }
  const attempts = { withToken: { headers: { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x" } }, simple: {} };
  result.management = {};
  for (const [name, init] of Object.entries(attempts)) {
    try {
      const response = await fetch(api + "/api/v1/workspaces", init);
      result.management[name] = "answered " + response.status;
    } catch (error) {
      result.management[name] = error.name;
    }
  }
  globalThis.switchyardResult = result;
</script>
`;

/** Serves the page and the client's dist on its own port: a second origin. */
async function startPageServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    if (path === "/") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(pageHtml);
      return;
    }
    const file = join(clientDist, path.replace(/^\/client\//, ""));
    if (!path.startsWith("/client/") || !file.endsWith(".js") || relative(clientDist, file).startsWith("..")) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface PageResult {
  batch: {
    answers?: Array<{ status: number; rateLimitRemaining: string | null }>;
    count?: number;
    errorCount?: number;
    ids?: string[];
    thrown?: string;
  };
  sdk: { status?: number; thrown?: string };
  management: Record<string, string>;
}

describe.skipIf(skipReason !== undefined)("a page on another origin, in Chromium", () => {
  let server: TestServer;
  let page: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Browser;
  let tenant: Tenant;

  useTestServer({ tenant: "Browser", rateLimit: { eventsPerSecond: 100, burst: 100, store: "memory" } }, async (file) => {
    ({ server, tenant } = file);
    page = await startPageServer();
    file.closers.push(page.close);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    });
    file.closers.push(() => browser.close());
  });

  it("when the page emits a batch with the publishable key and an event as Meshes' SDK sends it, then both are stored (201), the rate-limit headers are readable, and the management API is blocked by CORS", async () => {
    const tab = await browser.newPage();
    const consoleLines: string[] = [];
    tab.on("console", (message) => consoleLines.push(message.text()));
    const query = new URLSearchParams({ api: server.baseUrl, key: tenant.publishableKey });
    await tab.goto(`${page.origin}/?${query}`);
    await tab.waitForFunction(() => "switchyardResult" in globalThis, undefined, { timeout: 10_000 });
    const result = (await tab.evaluate(() => (globalThis as { switchyardResult?: unknown }).switchyardResult)) as PageResult;

    expect(result.batch).toMatchObject({ answers: [{ status: 201, rateLimitRemaining: "97" }], count: 3, errorCount: 0 });
    expect(result.sdk).toEqual({ status: 201 });
    const stored = await storedEvents(server.db, tenant.workspaceId);
    expect(
      stored
        .filter((e) => e.event !== "sdk.emitted")
        .map((e) => e.id)
        .sort(),
    ).toEqual([...(result.batch.ids ?? [])].sort());
    expect(stored.map((e) => e.event).sort()).toEqual(["button.clicked", "form.submitted", "page.viewed", "sdk.emitted"]);

    // fetch rejects with a TypeError when CORS refuses, whether the preflight failed or the answer lacked CORS headers.
    expect(result.management).toEqual({ withToken: "TypeError", simple: "TypeError" });
    expect(consoleLines.filter((line) => /blocked by CORS policy/.test(line)).length).toBeGreaterThanOrEqual(2);
  });
});
