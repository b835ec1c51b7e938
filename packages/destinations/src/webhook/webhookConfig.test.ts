import { describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import { buildWebhookRequest } from "./buildWebhookRequest.js";
import { generateSigningSecret, signingSecretProblem } from "./signingSecret.js";
import { parseWebhookConfig, type WebhookMetadata, type WebhookSecrets } from "./webhookConfig.js";

const strict = parseAddressPolicy("");
const url = "https://hooks.example.com/in";

function accepted(input: Parameters<typeof parseWebhookConfig>[0], policy = strict) {
  const result = parseWebhookConfig(input, policy);
  if (!result.ok) throw new Error(`expected the config to be accepted: ${JSON.stringify(result.errors)}`);
  return result;
}

function errorsOf(input: Parameters<typeof parseWebhookConfig>[0], policy = strict) {
  const result = parseWebhookConfig(input, policy);
  if (result.ok) throw new Error("expected the config to be refused");
  return result.errors;
}

describe("parseWebhookConfig", () => {
  it("when only a URL is given, then every default is filled in and a signing secret is generated", () => {
    const { metadata, secrets } = accepted({ metadata: { url } });
    expect(metadata).toEqual({
      url,
      http_method: "POST",
      payload_mode: "wrapped",
      auth_scheme: "none",
      headers: {},
      signature_header: "X-Meshes-Signature",
      signature_algorithm: "sha256",
    });
    expect(Object.keys(secrets)).toEqual(["signing_secret"]);
    expect(signingSecretProblem(secrets.signing_secret)).toBeUndefined();
  });

  it("when every field is given, then each is kept and the URL is normalized", () => {
    const fields = {
      http_method: "PATCH",
      payload_mode: "raw",
      auth_scheme: "basic",
      headers: { "X-Tenant": "acme", "X-Trace": "a b" },
      signature_header: "X-Hub-Signature",
      signature_algorithm: "sha512",
    };
    const { metadata, secrets } = accepted({
      metadata: { url: "HTTPS://Hooks.Example.com:443/a/../in?x=1", ...fields },
      secrets: { username: "ada", password: "pässword" },
    });
    expect(metadata).toEqual({ url: "https://hooks.example.com/in?x=1", ...fields });
    expect(secrets).toMatchObject({ username: "ada", password: "pässword" });
  });

  it.each([
    [{ auth_scheme: "bearer" }, { token: "tok_123.abc" }],
    [{ auth_scheme: "custom_header" }, { header_name: "X-Api-Key", header_value: "k 1" }],
    [{ auth_scheme: "custom_header" }, { header_name: "Authorization", header_value: "Token abc" }],
  ])("when auth is %j with its secrets, then they are accepted", (auth, credentials) => {
    const { metadata, secrets } = accepted({ metadata: { url, ...auth }, secrets: credentials });
    expect(metadata.auth_scheme).toBe(auth.auth_scheme);
    expect(secrets).toMatchObject(credentials);
  });

  const tooMany = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`X-H${i}`, "v"]));
  it.each([
    ["metadata is null", { metadata: null }, "metadata", "must be an object"],
    ["metadata is an array", { metadata: [url] }, "metadata", "must be an object"],
    ["the URL is missing", { metadata: {} }, "metadata.url", "is required"],
    ["the URL is not a string", { metadata: { url: 42 } }, "metadata.url", "must be a string"],
    ["the URL is relative", { metadata: { url: "/in" } }, "metadata.url", "absolute http or https URL"],
    ["the URL is ftp", { metadata: { url: "ftp://example.com/" } }, "metadata.url", "must use http or https"],
    ["the URL has userinfo", { metadata: { url: "https://ada:pw@example.com/" } }, "metadata.url", "user name or password"],
    ["the URL has a user name only", { metadata: { url: "https://ada@example.com/" } }, "metadata.url", "user name or password"],
    ["the URL has a fragment", { metadata: { url: "https://example.com/#x" } }, "metadata.url", "fragment"],
    ["the URL is too long", { metadata: { url: `https://example.com/${"a".repeat(2048)}` } }, "metadata.url", "at most 2048"],
    ["the URL is a loopback literal", { metadata: { url: "http://127.0.0.1:8080/" } }, "metadata.url", "the loopback range"],
    ["the URL is a decimal loopback literal", { metadata: { url: "http://2130706433/" } }, "metadata.url", "the loopback range"],
    ["the URL is an IPv6 loopback literal", { metadata: { url: "http://[::1]/" } }, "metadata.url", "the loopback range"],
    ["the URL is a mapped IPv6 literal", { metadata: { url: "http://[::ffff:10.0.0.1]/" } }, "metadata.url", "the private range"],
    ["the URL is a private literal", { metadata: { url: "http://192.168.0.10/" } }, "metadata.url", "the private range"],
    [
      "the URL is the metadata service",
      { metadata: { url: "http://169.254.169.254/latest/" } },
      "metadata.url",
      "the cloud metadata range",
    ],
    ["the URL is localhost", { metadata: { url: "http://localhost:3000/" } }, "metadata.url", "localhost"],
    ["the URL is under .localhost", { metadata: { url: "http://api.localhost/" } }, "metadata.url", "localhost"],
    ["the method is GET", { metadata: { url, http_method: "GET" } }, "metadata.http_method", "one of POST, PUT, PATCH"],
    ["the method is lower-case", { metadata: { url, http_method: "post" } }, "metadata.http_method", "one of POST, PUT, PATCH"],
    ["the payload mode is unknown", { metadata: { url, payload_mode: "json" } }, "metadata.payload_mode", "one of wrapped, raw"],
    [
      "the auth scheme is unknown",
      { metadata: { url, auth_scheme: "oauth" } },
      "metadata.auth_scheme",
      "one of none, basic, bearer, custom_header",
    ],
    ["the algorithm is md5", { metadata: { url, signature_algorithm: "md5" } }, "metadata.signature_algorithm", "one of sha256, sha512"],
    ["a field is unknown", { metadata: { url, action: "send" } }, "metadata.action", "is not a known property"],
    ["headers is an array", { metadata: { url, headers: [["X-A", "1"]] } }, "metadata.headers", "must be an object"],
    ["there are 6 headers", { metadata: { url, headers: tooMany } }, "metadata.headers", "at most 5"],
    ["a header name has a space", { metadata: { url, headers: { "X Bad": "1" } } }, "metadata.headers.X Bad", "header name"],
    [
      "a header value has a line break",
      { metadata: { url, headers: { "X-A": "1\r\nX-B: 2" } } },
      "metadata.headers.X-A",
      "printable ASCII",
    ],
    ["a header value is empty", { metadata: { url, headers: { "X-A": "" } } }, "metadata.headers.X-A", "printable ASCII"],
    ["a header value is not a string", { metadata: { url, headers: { "X-A": 1 } } }, "metadata.headers.X-A", "must be a string"],
    ["a header repeats in other case", { metadata: { url, headers: { "X-A": "1", "x-a": "2" } } }, "metadata.headers.x-a", "repeats"],
    [
      "a header is the signature header",
      { metadata: { url, signature_header: "X-Sig", headers: { "x-sig": "1" } } },
      "metadata.headers.x-sig",
      "signature_header",
    ],
    [
      "the signature header is webhook-signature",
      { metadata: { url, signature_header: "webhook-signature" } },
      "metadata.signature_header",
      "webhook-",
    ],
    [
      "the signature header is Content-Type",
      { metadata: { url, signature_header: "Content-Type" } },
      "metadata.signature_header",
      "Switchyard sets itself",
    ],
    [
      "the signature header is X-Meshes-Event",
      { metadata: { url, signature_header: "X-Meshes-Event" } },
      "metadata.signature_header",
      "x-meshes-",
    ],
    ["the signature header has a colon", { metadata: { url, signature_header: "X:Sig" } }, "metadata.signature_header", "header name"],
    ["secrets is a string", { metadata: { url }, secrets: "s3cret" }, "secrets", "must be an object"],
    ["a secret is unknown", { metadata: { url }, secrets: { api_key: "k" } }, "secrets.api_key", "is not a known property"],
    [
      "the stored previous secret is sent",
      { metadata: { url }, secrets: { previous_signing_secret: {} } },
      "secrets.previous_signing_secret",
      "not a known",
    ],
    ["a token is sent without bearer", { metadata: { url }, secrets: { token: "t" } }, "secrets.token", "not used by auth_scheme none"],
    [
      "basic lacks a user name",
      { metadata: { url, auth_scheme: "basic" }, secrets: { password: "p" } },
      "secrets.username",
      "required when auth_scheme is basic",
    ],
    ["basic lacks a password", { metadata: { url, auth_scheme: "basic" }, secrets: { username: "u" } }, "secrets.password", "required"],
    [
      "the user name has a colon",
      { metadata: { url, auth_scheme: "basic" }, secrets: { username: "a:b", password: "p" } },
      "secrets.username",
      "colon",
    ],
    ["bearer lacks a token", { metadata: { url, auth_scheme: "bearer" } }, "secrets.token", "required when auth_scheme is bearer"],
    ["the token has a space", { metadata: { url, auth_scheme: "bearer" }, secrets: { token: "a b" } }, "secrets.token", "without spaces"],
    ["the token is not a string", { metadata: { url, auth_scheme: "bearer" }, secrets: { token: 7 } }, "secrets.token", "must be a string"],
    [
      "the custom header lacks a value",
      { metadata: { url, auth_scheme: "custom_header" }, secrets: { header_name: "X-Key" } },
      "secrets.header_value",
      "required",
    ],
    [
      "the custom header is Host",
      { metadata: { url, auth_scheme: "custom_header" }, secrets: { header_name: "Host", header_value: "v" } },
      "secrets.header_name",
      "Switchyard sets itself",
    ],
    [
      "the custom header is a static header too",
      { metadata: { url, auth_scheme: "custom_header", headers: { "X-Key": "1" } }, secrets: { header_name: "x-key", header_value: "v" } },
      "secrets.header_name",
      "metadata.headers",
    ],
    [
      "the signing secret has another prefix",
      { metadata: { url }, secrets: { signing_secret: "sk_live_abc" } },
      "secrets.signing_secret",
      "whsec_",
    ],
    [
      "the signing secret is short",
      { metadata: { url }, secrets: { signing_secret: `whsec_${"AAAA".repeat(4)}` } },
      "secrets.signing_secret",
      "24 to 64 bytes",
    ],
  ])("when %s, then %s is refused", (_case, input, param, msg) => {
    const errors = errorsOf(input);
    expect(errors).toContainEqual({ param, msg: expect.stringContaining(msg) });
  });

  it.each([
    "Host",
    "content-length",
    "Content-Type",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "User-Agent",
    "Authorization",
    "Proxy-Authorization",
    "webhook-id",
    "Webhook-Signature",
    "X-Meshes-Signature",
    "X-Meshes-Event-Id",
  ])("when a static header is named %s, then it is refused", (name) => {
    expect(errorsOf({ metadata: { url, headers: { [name]: "v" } } })).toEqual([
      { param: `metadata.headers.${name}`, msg: expect.any(String) },
    ]);
  });

  it("when a static header is named like a property of Object.prototype, then it is kept and sent like any other", () => {
    // As it arrives from a JSON body: an own property named "__proto__".
    const headers = JSON.parse('{"__proto__":"one","constructor":"two","toString":"three"}') as Record<string, string>;
    const kept = [
      ["__proto__", "one"],
      ["constructor", "two"],
      ["toString", "three"],
    ];
    const { metadata, secrets } = accepted({ metadata: { url, headers } });
    expect(Object.entries(metadata.headers)).toEqual(kept);
    expect(JSON.parse(JSON.stringify(metadata)).headers).toEqual(headers);
    const request = buildWebhookRequest({
      deliveryId: "d1",
      event: { id: "e1", workspace: "w1", event: "x", resource: null, resource_id: null, createdAt: new Date(), payload: {} },
      metadata,
      secrets,
      sentAt: new Date(),
    });
    expect(Object.entries(request.headers).filter(([name]) => ["__proto__", "constructor", "toString"].includes(name))).toEqual(kept);
  });

  it("when several fields are wrong, then every one is reported and no secret value appears", () => {
    const errors = errorsOf({
      metadata: { url: "ftp://x/", http_method: "GET", auth_scheme: "bearer", extra: 1 },
      secrets: { token: "super secret token" },
    });
    expect(errors.map((e) => e.param)).toEqual(["metadata.extra", "metadata.url", "metadata.http_method", "secrets.token"]);
    expect(JSON.stringify(errors)).not.toContain("super secret");
  });

  it.each([
    ["127.0.0.1/32", "http://127.0.0.1:8080/in"],
    ["::1/128", "http://[::1]:8080/in"],
    ["127.0.0.1/32", "http://localhost:8080/in"],
    ["localhost", "http://localhost:8080/in"],
    ["10.0.0.0/8", "http://10.1.2.3/in"],
  ])("when the allow-list is %s, then %s is accepted", (allowList, allowedUrl) => {
    expect(accepted({ metadata: { url: allowedUrl } }, parseAddressPolicy(allowList)).metadata.url).toBe(allowedUrl);
  });

  it("when a public hostname resolves who knows where, then parseConfig accepts it (the connect-time check judges it)", () => {
    expect(accepted({ metadata: { url: "http://rebind.example.test/" } }).metadata.url).toBe("http://rebind.example.test/");
  });

  describe("on update", () => {
    const signing_secret = generateSigningSecret();
    const previousSigning = { secret: generateSigningSecret(), expires_at: "2030-01-01T00:00:00.000Z" };
    const previous: { metadata: WebhookMetadata; secrets: WebhookSecrets } = {
      metadata: { ...accepted({ metadata: { url } }).metadata, auth_scheme: "bearer" },
      secrets: { signing_secret, previous_signing_secret: previousSigning, token: "old-token" },
    };

    it("when no secrets are sent, then the stored credentials and signing secrets are kept", () => {
      const { metadata, secrets } = accepted({ metadata: { url: "https://new.example.com/", auth_scheme: "bearer" }, previous });
      expect(metadata.url).toBe("https://new.example.com/");
      expect(secrets).toEqual({ signing_secret, previous_signing_secret: previousSigning, token: "old-token" });
    });

    it("when a new token is sent, then it replaces the stored one and the signing secrets stay", () => {
      const { secrets } = accepted({ metadata: { url, auth_scheme: "bearer" }, secrets: { token: "new-token" }, previous });
      expect(secrets).toEqual({ signing_secret, previous_signing_secret: previousSigning, token: "new-token" });
    });

    it("when the auth scheme changes without its secrets, then they are required and the old ones are not reused", () => {
      expect(errorsOf({ metadata: { url, auth_scheme: "basic" }, previous })).toEqual([
        { param: "secrets.username", msg: "is required when auth_scheme is basic" },
        { param: "secrets.password", msg: "is required when auth_scheme is basic" },
      ]);
    });

    it("when the auth scheme becomes none, then the old credentials are dropped", () => {
      const { secrets } = accepted({ metadata: { url }, previous });
      expect(secrets).toEqual({ signing_secret, previous_signing_secret: previousSigning });
    });

    it("when a signing secret is sent, then it replaces both stored ones at once", () => {
      const sent = generateSigningSecret();
      const { secrets } = accepted({ metadata: { url, auth_scheme: "bearer" }, secrets: { signing_secret: sent }, previous });
      expect(secrets).toEqual({ signing_secret: sent, token: "old-token" });
    });
  });
});
