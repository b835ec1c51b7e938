/**
 * Framing that lies, on raw sockets each bounded by a timeout: chunked and paused bodies, lengths that do
 * not match the body, conflicting or malformed framing headers, oversized headers.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the error envelope
 * (`{message, error: {name, message, data?}}`); the status each case is due; and, in the `events` table,
 * the event once when it was accepted and nothing otherwise.
 */
import { describe, expect, it } from "vitest";
import { expectEnvelope, expectNoServerError, toAnswer } from "./support/ingestionOracle.js";
import { rawExchange } from "./support/rawHttp.js";
import { useHostileIngestion } from "./support/useHostileIngestion.js";

const hostile = useHostileIngestion();

interface Framing {
  readonly chunks: Array<string | Buffer>;
  readonly endAfterWrite?: boolean;
  readonly pauseMs?: number;
}

describe("hostile framing", () => {
  const valid = () => JSON.stringify({ event: "raw.framing", payload: { n: 1 } });
  const head = (extra: string[], method = "POST", path = "/api/v1/events") =>
    [
      `${method} ${path} HTTP/1.1`,
      "Host: 127.0.0.1",
      "Connection: close",
      "Content-Type: application/json",
      `X-Meshes-Publishable-Key: ${hostile.tenant.publishableKey}`,
      ...extra,
      "",
      "",
    ].join("\r\n");

  /**
   * `status`: the first answer (undefined: none is due, as the client gave up before sending what it
   * promised). `bare`: the connection may close without an answer body. Bytes Node's HTTP parser refuses
   * before Express runs are answered in the envelope too (http/hardenServer.ts).
   */
  it.each<[string, string, 201 | 400 | 431 | undefined, boolean, () => Framing]>([
    [
      "a chunked body arrives whole",
      "201 and stores the event once",
      201,
      false,
      () => ({ chunks: [head(["Transfer-Encoding: chunked"]), `${valid().length.toString(16)}\r\n${valid()}\r\n0\r\n\r\n`] }),
    ],
    [
      "the body arrives in pieces with pauses",
      "201 and stores the event once",
      201,
      false,
      () => ({ chunks: [head([`Content-Length: ${valid().length}`]), valid().slice(0, 10), valid().slice(10)], pauseMs: 100 }),
    ],
    [
      "the Content-Length is smaller than the body",
      "400 and stores nothing",
      400,
      true,
      () => ({ chunks: [head([`Content-Length: ${valid().length - 4}`]) + valid()] }),
    ],
    [
      "the Content-Length is larger than the body and the client stops sending",
      "nothing or a 400 and stores nothing",
      undefined,
      true,
      () => ({ chunks: [head([`Content-Length: ${valid().length + 100}`]) + valid()], endAfterWrite: true }),
    ],
    [
      "a chunked body is cut off mid-chunk and the client stops sending",
      "nothing or a 400 and stores nothing",
      undefined,
      true,
      () => ({ chunks: [head(["Transfer-Encoding: chunked"]), `ff\r\n${valid()}`], endAfterWrite: true }),
    ],
    [
      "two different Content-Length headers are sent",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Content-Length: 5", "Content-Length: 6"]) + valid()] }),
    ],
    [
      "both Content-Length and Transfer-Encoding are sent",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head([`Content-Length: ${valid().length}`, "Transfer-Encoding: chunked"]) + valid()] }),
    ],
    [
      "the chunk size is not hexadecimal",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Transfer-Encoding: chunked"]), `zz\r\n${valid()}\r\n0\r\n\r\n`] }),
    ],
    [
      "the Content-Length is not a number",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Content-Length: abc"]) + valid()] }),
    ],
    [
      "the Content-Length is negative",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Content-Length: -1"]) + valid()] }),
    ],
    [
      "a header value holds a NUL byte",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["X-Odd: a\u0000b", `Content-Length: ${valid().length}`]) + valid()] }),
    ],
    [
      "the method is not an HTTP method",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head([`Content-Length: ${valid().length}`], "FROB") + valid()] }),
    ],
    [
      "the headers are over 16 KiB",
      "431 in the envelope and stores nothing",
      431,
      false,
      () => ({ chunks: [head([`X-Big: ${"a".repeat(20_000)}`, `Content-Length: ${valid().length}`]) + valid()] }),
    ],
  ])("when %s, then it answers %s", async (name, _answer, status, bare, build) => {
    const before = await hostile.countEvents();
    const { chunks, ...options } = build();
    const { responses } = await rawExchange(hostile.server.baseUrl, chunks, options);
    const answers = responses.map((r) => toAnswer(r.status, r.body));
    for (const answer of answers) {
      expectNoServerError(answer, name);
      if (answer.status >= 400 && (answer.text !== "" || !bare)) expectEnvelope(answer);
    }
    if (status === undefined) {
      for (const answer of answers) expect(answer.status, JSON.stringify(responses)).toBe(400);
    } else {
      expect(answers[0]?.status, JSON.stringify(responses)).toBe(status);
    }
    if (status === 201) expect(answers[0]?.body).toMatchObject({ event: { event: "raw.framing" } });
    expect((await hostile.countEvents()) - before).toBe(status === 201 ? 1 : 0);
  });

  it("when every framing attack is over, then the server still answers a normal request", async () => {
    await hostile.sendAndCheck("single", valid(), "publishableKey");
  });
});
