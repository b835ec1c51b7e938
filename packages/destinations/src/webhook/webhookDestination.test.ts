import { createHmac } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { type AddressPolicy, parseAddressPolicy } from "../addressPolicy.js";
import type { DeliveryContext, HostLookup } from "../deliveryContext.js";
import type { DeliveryRequest } from "../destinationPlugin.js";
import { destinations } from "../destinations.js";
import { type Receiver, type ReceiverHandler, startReceiver } from "../testSupport/startReceiver.js";
import { rotateSigningSecret } from "./signingSecret.js";
import type { WebhookMetadata, WebhookSecrets } from "./webhookConfig.js";
import { webhookDestination } from "./webhookDestination.js";

const strict = parseAddressPolicy("");
const loopback = parseAddressPolicy("127.0.0.1/32,::1/128");
const anywhere = parseAddressPolicy("0.0.0.0/0,::/0");
const noDns: HostLookup = async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
};
const loopbackContext: DeliveryContext = { addressPolicy: loopback, lookup: noDns };

const event = {
  id: "3f1c2a9e-1d2b-4c5d-8e9f-0a1b2c3d4e5f",
  workspace: "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d",
  event: "contact.created",
  resource: "contact",
  resource_id: "c_123",
  createdAt: new Date("2026-03-10T11:59:00.123Z"),
  payload: { email: "ada@example.com", name: "Ada Lövelace ✓", tags: ["a", "b"] },
};

const receivers: Receiver[] = [];
async function receiver(handler?: ReceiverHandler): Promise<Receiver> {
  const started = await startReceiver(handler);
  receivers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

function configure(metadata: Record<string, unknown>, secrets?: Record<string, unknown>, policy: AddressPolicy = loopback) {
  const result = webhookDestination.parseConfig({ metadata, secrets }, policy);
  if (!result.ok) throw new Error(`config refused: ${JSON.stringify(result.errors)}`);
  return { metadata: result.metadata, secrets: result.secrets };
}

function deliveryRequest(
  config: { metadata: WebhookMetadata; secrets: WebhookSecrets },
  overrides: Partial<Omit<DeliveryRequest, "connection">> = {},
): DeliveryRequest {
  return {
    deliveryId: "re_0001",
    attempt: 1,
    event,
    connection: { id: "conn_1", ...config },
    action: "send_webhook",
    rule: { id: "rule_1", metadata: { action: "send_webhook" } },
    mapped: {},
    timeoutMs: 5_000,
    now: () => new Date(),
    ...overrides,
  };
}

function hmacHex(algorithm: "sha256" | "sha512", secret: string, body: Buffer): string {
  return createHmac(algorithm, Buffer.from(secret, "utf8")).update(body).digest("hex");
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function headersOf(req: { headers: Record<string, string | string[] | undefined> }): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
}

/** Delivers one webhook after its signing secret was rotated at `rotatedAt` (60 s of grace); the secrets and what arrived. */
async function deliverAfterRotation(rotatedAt: Date) {
  const target = await receiver();
  const original = configure({ url: target.origin });
  const rotated = { ...original, secrets: rotateSigningSecret(original.secrets, rotatedAt, 60_000) };
  await webhookDestination.deliver(deliveryRequest(rotated), loopbackContext);
  const received = only(target.requests);
  return { newSecret: rotated.secrets.signing_secret, oldSecret: original.secrets.signing_secret, received, headers: headersOf(received) };
}

describe("webhook delivery", () => {
  it("when the webhook registry is asked for webhook, then it answers this plugin", () => {
    expect(destinations.get("webhook")).toBe(webhookDestination);
    for (const [type, plugin] of destinations) expect(plugin.type).toBe(type);
  });

  it("when payload_mode is wrapped, then the body is the envelope with epoch-ms times and the answer is reported", async () => {
    const answerDelayMs = 50;
    const target = await receiver((_req, res) => {
      setTimeout(() => res.writeHead(200, { "X-Receipt": "r1" }).end("thanks"), answerDelayMs);
    });
    const config = configure({ url: `${target.origin}/hooks?src=sy` });
    const sentAt = new Date("2026-03-10T12:00:00.456Z");

    const before = performance.now();
    const facts = await webhookDestination.deliver(deliveryRequest(config, { now: () => sentAt }), loopbackContext);
    const after = performance.now();

    const received = only(target.requests);
    expect(received.method).toBe("POST");
    expect(received.path).toBe("/hooks?src=sy");
    expect(JSON.parse(received.body.toString("utf8"))).toEqual({
      uuid: event.id,
      event: "contact.created",
      resource: "contact",
      resource_id: "c_123",
      payload: event.payload,
      time_created: Date.parse("2026-03-10T11:59:00.123Z"),
      time_sent: Date.parse("2026-03-10T12:00:00.456Z"),
    });
    expect(received.headers).toMatchObject({
      "content-type": "application/json",
      "content-length": String(received.body.length),
      "user-agent": "Switchyard-Webhooks/1",
      "webhook-id": "re_0001",
      "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    });
    expect(received.headers["x-meshes-event"]).toBeUndefined();
    expect(facts).toMatchObject({ httpStatus: 200, responseBody: "thanks", responseHeaders: { "x-receipt": "r1" } });
    expect(facts.failure).toBeUndefined();
    // The attempt lasts at least as long as the receiver waited before answering (less timer granularity),
    // and no longer than the call that made it.
    expect(facts.durationMs).toBeGreaterThanOrEqual(answerDelayMs - 5);
    expect(facts.durationMs).toBeLessThanOrEqual(Math.ceil(after - before));
    expect(facts.request).toEqual({
      method: "POST",
      url: `${target.origin}/hooks?src=sy`,
      headers: expect.objectContaining({ "webhook-id": "re_0001", "Content-Length": String(received.body.length) }),
      bodyBytes: received.body.length,
    });
  });

  it("when payload_mode is raw, then the body is the payload alone and the event travels in X-Meshes-* headers", async () => {
    const target = await receiver();
    const config = configure({ url: target.origin, payload_mode: "raw" });
    const sentAt = new Date("2026-03-10T12:00:00.456Z");

    const facts = await webhookDestination.deliver(
      deliveryRequest(config, { now: () => sentAt, event: { ...event, resource: "contact list", resource_id: null } }),
      loopbackContext,
    );

    const received = only(target.requests);
    expect(facts.httpStatus).toBe(204);
    expect(received.body.toString("utf8")).toBe(JSON.stringify(event.payload));
    expect(received.headers).toMatchObject({
      "x-meshes-event-id": event.id,
      "x-meshes-event": "contact.created",
      "x-meshes-resource": "contact%20list",
      "x-meshes-workspace": event.workspace,
      "x-meshes-time-created": String(Date.parse("2026-03-10T11:59:00.123Z")),
      "x-meshes-time-sent": String(sentAt.getTime()),
    });
    expect(received.headers["x-meshes-resource-id"]).toBeUndefined();
  });

  it.each(["POST", "PUT", "PATCH"])("when http_method is %s, then the receiver sees %s", async (method) => {
    const target = await receiver();
    await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin, http_method: method })), loopbackContext);
    expect(only(target.requests).method).toBe(method);
  });

  it.each([
    ["none", {}, undefined, undefined],
    ["basic", { username: "ada", password: "pässword" }, "authorization", `Basic ${Buffer.from("ada:pässword").toString("base64")}`],
    ["bearer", { token: "tok_123" }, "authorization", "Bearer tok_123"],
    ["custom_header", { header_name: "X-Api-Key", header_value: "k-42" }, "x-api-key", "k-42"],
    ["custom_header", { header_name: "Authorization", header_value: "Token abc" }, "authorization", "Token abc"],
  ])(
    "when auth_scheme is %s, then the credential arrives and the attempt log shows it redacted",
    async (scheme, secrets, header, value) => {
      const target = await receiver();
      const config = configure({ url: target.origin, auth_scheme: scheme }, secrets);
      const facts = await webhookDestination.deliver(deliveryRequest(config), loopbackContext);
      const received = only(target.requests);
      if (header === undefined) {
        expect(received.headers.authorization).toBeUndefined();
        expect(JSON.stringify(facts.request?.headers)).not.toContain("redacted");
      } else {
        expect(received.headers[header]).toBe(value);
        const logged = Object.entries(facts.request?.headers ?? {}).find(([name]) => name.toLowerCase() === header);
        expect(logged?.[1]).toBe("[redacted]");
      }
    },
  );

  it("when static headers are configured, then each arrives with its value", async () => {
    const target = await receiver();
    const config = configure({ url: target.origin, headers: { "X-Tenant": "acme", "X-Trace": "a b c" } });
    await webhookDestination.deliver(deliveryRequest(config), loopbackContext);
    expect(only(target.requests).headers).toMatchObject({ "x-tenant": "acme", "x-trace": "a b c" });
  });

  it.each([
    ["wrapped", "sha256"],
    ["raw", "sha256"],
    ["wrapped", "sha512"],
  ] as const)("when payload_mode is %s with %s, then both signatures verify over the bytes received", async (mode, algorithm) => {
    const target = await receiver();
    const config = configure({ url: target.origin, payload_mode: mode, signature_algorithm: algorithm });
    await webhookDestination.deliver(deliveryRequest(config), loopbackContext);

    const received = only(target.requests);
    const headers = headersOf(received);
    expect(() => new Webhook(config.secrets.signing_secret).verify(received.body, headers)).not.toThrow();
    expect(headers["x-meshes-signature"]).toBe(hmacHex(algorithm, config.secrets.signing_secret, received.body));
    expect(headers["x-meshes-signature"]).toHaveLength(algorithm === "sha256" ? 64 : 128);
  });

  it("when the signature header is renamed, then the body HMAC moves there", async () => {
    const target = await receiver();
    const config = configure({ url: target.origin, signature_header: "X-Hub-Signature" });
    await webhookDestination.deliver(deliveryRequest(config), loopbackContext);
    const received = only(target.requests);
    expect(received.headers["x-hub-signature"]).toBe(hmacHex("sha256", config.secrets.signing_secret, received.body));
    expect(received.headers["x-meshes-signature"]).toBeUndefined();
  });

  it("when the secret was rotated and the grace period lasts, then every webhook is signed with the new and the old secret", async () => {
    const { newSecret, oldSecret, received, headers } = await deliverAfterRotation(new Date());
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(received.body, headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(received.body, headers)).not.toThrow();
    expect(headers["x-meshes-signature"]).toBe(
      `${hmacHex("sha256", newSecret, received.body)},${hmacHex("sha256", oldSecret, received.body)}`,
    );
  });

  it("when the grace period is over, then only the new secret signs", async () => {
    const { newSecret, oldSecret, received, headers } = await deliverAfterRotation(new Date(Date.now() - 120_000));
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(received.body, headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(received.body, headers)).toThrow();
    expect(headers["x-meshes-signature"]).toBe(hmacHex("sha256", newSecret, received.body));
  });

  it("when the receiver answers 302, then the redirect is the answer and its target sees nothing", async () => {
    const elsewhere = await receiver();
    const target = await receiver((_req, res) => res.writeHead(302, { Location: `${elsewhere.origin}/moved` }).end());
    const facts = await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin })), loopbackContext);
    expect(facts).toMatchObject({ httpStatus: 302, responseHeaders: { location: `${elsewhere.origin}/moved` } });
    expect(target.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("when the receiver answers an endless body, then 16 KiB are read and the connection is closed", async () => {
    let closed = false;
    const target = await receiver((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.on("close", () => {
        closed = true;
      });
      const chunk = "é".repeat(2048); // 4 KiB a write, two bytes a character
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
      };
      res.on("drain", pump);
      pump();
    });
    const facts = await webhookDestination.deliver(
      deliveryRequest(configure({ url: target.origin }), { timeoutMs: 5_000 }),
      loopbackContext,
    );
    expect(facts.httpStatus).toBe(200);
    expect(facts.message).toBeUndefined();
    expect(Buffer.byteLength(facts.responseBody ?? "", "utf8")).toBe(16_384);
    expect(facts.responseBody).toBe("é".repeat(8192));
    await expect.poll(() => closed, { timeout: 2_000 }).toBe(true);
  });

  it("when the receiver never answers, then the attempt ends as a timeout after timeoutMs", async () => {
    const target = await receiver(() => {});
    const facts = await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin }), { timeoutMs: 150 }), loopbackContext);
    expect(facts).toMatchObject({ failure: "timeout", message: "no response within 150 ms" });
    expect(facts.httpStatus).toBeUndefined();
    expect(facts.durationMs).toBeGreaterThanOrEqual(145);
    expect(facts.durationMs).toBeLessThan(2_000);
  });

  it("when the receiver stalls in the middle of the body, then the status is kept and the body is cut at the timeout", async () => {
    const target = await receiver((_req, res) => {
      res.writeHead(503, { "Retry-After": "30" });
      res.write("partial");
    });
    const facts = await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin }), { timeoutMs: 150 }), loopbackContext);
    expect(facts).toMatchObject({
      httpStatus: 503,
      responseBody: "partial",
      retryAfterMs: 30_000,
      message: expect.stringContaining("timed out"),
    });
    expect(facts.failure).toBeUndefined();
  });

  it("when the receiver resets the connection, then the failure is network", async () => {
    const target = await receiver((req) => req.socket.resetAndDestroy());
    const facts = await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin })), loopbackContext);
    expect(facts).toMatchObject({ failure: "network", message: expect.stringContaining("ECONNRESET") });
    expect(facts.httpStatus).toBeUndefined();
  });

  it("when two webhooks go to one receiver in turn, then the second reuses the first's connection", async () => {
    const sockets = new Set<unknown>();
    const target = await receiver((req, res) => {
      sockets.add(req.socket);
      res.writeHead(204).end();
    });
    const config = configure({ url: target.origin });
    for (const deliveryId of ["re_a", "re_b"]) {
      expect((await webhookDestination.deliver(deliveryRequest(config, { deliveryId }), loopbackContext)).httpStatus).toBe(204);
    }
    expect(target.requests).toHaveLength(2);
    expect(sockets.size).toBe(1);
  });

  it("when the receiver drops a reused connection without answering, then the webhook is sent again on a new connection", async () => {
    const sockets: unknown[] = [];
    const target = await receiver((req, res) => {
      sockets.push(req.socket);
      if (sockets.length === 2) req.socket.resetAndDestroy();
      else res.writeHead(204).end();
    });
    const config = configure({ url: target.origin });
    expect((await webhookDestination.deliver(deliveryRequest(config, { deliveryId: "re_a" }), loopbackContext)).httpStatus).toBe(204);
    const facts = await webhookDestination.deliver(deliveryRequest(config, { deliveryId: "re_b" }), loopbackContext);
    expect(facts.httpStatus).toBe(204);
    expect(target.requests.map((r) => r.headers["webhook-id"])).toEqual(["re_a", "re_b", "re_b"]);
    // The first two on one connection, the retry on a new one.
    expect(sockets[1]).toBe(sockets[0]);
    expect(sockets[2]).not.toBe(sockets[1]);
  });

  it("when nothing listens on the port, then the failure is network", async () => {
    const target = await receiver();
    await target.close();
    const facts = await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin })), loopbackContext);
    expect(facts).toMatchObject({ failure: "network", message: expect.stringContaining("ECONNREFUSED") });
  });

  it("when an https URL reaches a plain HTTP server, then the TLS failure is network", async () => {
    const target = await receiver();
    const facts = await webhookDestination.deliver(
      deliveryRequest(configure({ url: `https://127.0.0.1:${target.port}/` })),
      loopbackContext,
    );
    expect(facts.failure).toBe("network");
  });

  it.each([
    ["120", 120_000],
    ["Tue, 10 Mar 2026 13:00:00 GMT", 3_600_000],
  ])("when a 429 carries Retry-After %s, then %d ms are reported", async (retryAfter, expected) => {
    const target = await receiver((_req, res) => res.writeHead(429, { "Retry-After": retryAfter }).end("slow down"));
    const now = () => new Date("2026-03-10T12:00:00.000Z");
    const facts = await webhookDestination.deliver(deliveryRequest(configure({ url: target.origin }), { now }), loopbackContext);
    expect(facts).toMatchObject({ httpStatus: 429, responseBody: "slow down", retryAfterMs: expected });
  });

  it("when the rule asks for an action the webhook lacks, then the failure is mapping and nothing is sent", async () => {
    const target = await receiver();
    const facts = await webhookDestination.deliver(
      deliveryRequest(configure({ url: target.origin }), { action: "upsert_contact" }),
      loopbackContext,
    );
    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining('"upsert_contact"') });
    expect(target.requests).toHaveLength(0);
  });

  it("when the stored config is not a webhook config, then the failure is internal", async () => {
    const request = {
      ...deliveryRequest(configure({ url: "https://example.com/" })),
      connection: { id: "c", metadata: { url: 1 }, secrets: {} },
    };
    expect(await webhookDestination.deliver(request, loopbackContext)).toMatchObject({ failure: "internal" });
  });

  describe("address policy at connect time", () => {
    it.each([
      ["127.0.0.1", (port: number) => `http://127.0.0.1:${port}/`, "loopback"],
      ["[::1]", (port: number) => `http://[::1]:${port}/`, "loopback"],
      ["[::ffff:127.0.0.1]", (port: number) => `http://[::ffff:127.0.0.1]:${port}/`, "loopback"],
      ["[64:ff9b::7f00:1] (NAT64 of 127.0.0.1)", (port: number) => `http://[64:ff9b::7f00:1]:${port}/`, "loopback"],
      ["0.0.0.0", (port: number) => `http://0.0.0.0:${port}/`, "unspecified"],
      ["10.0.0.1", () => "http://10.0.0.1/", "private"],
      ["192.168.1.1", () => "http://192.168.1.1/", "private"],
      ["169.254.10.10", () => "http://169.254.10.10/", "link-local"],
      ["169.254.169.254", () => "http://169.254.169.254/latest/meta-data/", "cloud metadata"],
      ["100.64.1.1", () => "http://100.64.1.1/", "carrier-grade NAT"],
      ["224.0.0.1", () => "http://224.0.0.1/", "multicast"],
      ["[fe80::1]", () => "http://[fe80::1]/", "link-local"],
      ["[fd00::1]", () => "http://[fd00::1]/", "unique-local"],
      ["[::ffff:169.254.169.254]", () => "http://[::ffff:169.254.169.254]/", "cloud metadata"],
    ])("when the URL points at %s and the allow-list is empty, then the attempt is refused", async (_host, urlFor, range) => {
      const target = await receiver();
      const config = configure({ url: urlFor(target.port) }, undefined, anywhere);
      const facts = await webhookDestination.deliver(deliveryRequest(config), { addressPolicy: strict, lookup: noDns });
      expect(facts).toMatchObject({ failure: "refused_address", message: expect.stringContaining(`the ${range} range`) });
      expect(target.requests).toHaveLength(0);
    });

    it("when a hostname parseConfig accepted resolves to 127.0.0.1, then the connection is refused and the receiver sees nothing", async () => {
      const target = await receiver();
      const config = configure({ url: `http://hooks.example.test:${target.port}/in` }, undefined, strict);
      const lookup: HostLookup = async () => [{ address: "127.0.0.1", family: 4 }];
      const facts = await webhookDestination.deliver(deliveryRequest(config), { addressPolicy: strict, lookup });
      expect(facts).toMatchObject({
        failure: "refused_address",
        message:
          "refused to connect to 127.0.0.1 (resolved from hooks.example.test): in the loopback range, which the destination allow-list does not name",
      });
      expect(target.requests).toHaveLength(0);
    });

    it("when one of several resolved addresses is internal, then the whole attempt is refused", async () => {
      const target = await receiver();
      const config = configure({ url: `http://hooks.example.test:${target.port}/in` }, undefined, strict);
      const lookup: HostLookup = async () => [
        { address: "93.184.216.34", family: 4 },
        { address: "::ffff:169.254.169.254", family: 6 },
      ];
      const facts = await webhookDestination.deliver(deliveryRequest(config), { addressPolicy: strict, lookup });
      expect(facts).toMatchObject({ failure: "refused_address", message: expect.stringContaining("cloud metadata") });
    });

    it.each([
      ["the address", "127.0.0.1/32"],
      ["the hostname", "HOOKS.example.test"],
    ])("when the allow-list names %s, then the injected lookup's address is connected to", async (_case, allowList) => {
      const target = await receiver();
      const policy = parseAddressPolicy(allowList);
      const config = configure({ url: `http://hooks.example.test:${target.port}/in` }, undefined, policy);
      const lookup: HostLookup = async (hostname) => (hostname === "hooks.example.test" ? [{ address: "127.0.0.1", family: 4 }] : []);
      const facts = await webhookDestination.deliver(deliveryRequest(config), { addressPolicy: policy, lookup });
      expect(facts.httpStatus).toBe(204);
      expect(only(target.requests).headers.host).toBe(`hooks.example.test:${target.port}`);
    });

    it("when a connection was pooled under a looser policy, then it is not reused under a stricter one", async () => {
      const target = await receiver();
      const url = `http://hooks.example.test:${target.port}/in`;
      const lookup: HostLookup = async () => [{ address: "127.0.0.1", family: 4 }];
      const allowed = await webhookDestination.deliver(deliveryRequest(configure({ url }, undefined, loopback)), {
        addressPolicy: loopback,
        lookup,
      });
      expect(allowed.httpStatus).toBe(204);
      const refused = await webhookDestination.deliver(deliveryRequest(configure({ url }, undefined, strict)), {
        addressPolicy: strict,
        lookup,
      });
      expect(refused).toMatchObject({ failure: "refused_address", message: expect.stringContaining("loopback range") });
      expect(target.requests).toHaveLength(1);
    });

    it("when DNS never answers, then the attempt ends as a timeout", async () => {
      const config = configure({ url: "http://slow-dns.example.test/" }, undefined, strict);
      const lookup: HostLookup = () => new Promise(() => {});
      const facts = await webhookDestination.deliver(deliveryRequest(config, { timeoutMs: 100 }), { addressPolicy: strict, lookup });
      expect(facts).toMatchObject({ failure: "timeout" });
    });

    it("when the hostname does not resolve, then the failure is network", async () => {
      const config = configure({ url: "http://nowhere.example.test/" }, undefined, strict);
      const facts = await webhookDestination.deliver(deliveryRequest(config), { addressPolicy: strict, lookup: noDns });
      expect(facts).toMatchObject({ failure: "network", message: expect.stringContaining("ENOTFOUND") });
    });
  });
});
