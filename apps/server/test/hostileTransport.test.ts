/**
 * Hostile transport, property-based (fast-check): content types, charsets, encodings, BOMs and bytes that
 * are not UTF-8, thrown at both ingestion endpoints.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the error envelope
 * (`{message, error: {name, message, data?}}`); a 201/207 whose `records[i]` answers item `i` as the oracle
 * (support/ingestionOracle.ts) predicts it; and, in the `events` table, exactly the accepted items, each
 * once, with the payload that was sent (as JSON round-trips it).
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileTransport` replays the run.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCheckRuns } from "./support/fastCheckRuns.js";
import { anyItemText, batchText, contentTypes, credential, encode, encodings, invalidUtf8 } from "./support/hostileArbitraries.js";
import { type Endpoint, excerpt, paths, predictUnreadable, type RequestPrediction } from "./support/ingestionOracle.js";
import { json, useHostileIngestion } from "./support/useHostileIngestion.js";

const runs = fastCheckRuns("hostileTransport");
const hostile = useHostileIngestion();

describe("hostile transport", () => {
  it("when content types, charsets, encodings and BOMs vary, then a readable JSON body is judged as usual and anything else is a 400", async () => {
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.record({
            cred: fc.constant(cred),
            endpoint: fc.constantFrom("single", "bulk") as fc.Arbitrary<Endpoint>,
            contentType: fc.constantFrom(...contentTypes),
            encoding: fc.constantFrom(...encodings),
            bom: fc.boolean(),
            text: fc.oneof(
              anyItemText(hostile.workspaces, cred),
              batchText(fc.array(anyItemText(hostile.workspaces, cred), { minLength: 1, maxLength: 4 })),
            ),
          }),
        ),
        async ({ cred, endpoint, contentType: [contentType, kind], encoding, bom, text }) => {
          const decoded = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, "utf8")]);
          const { bytes, header, readable } = encode(decoded, encoding);
          const headers: Record<string, string> = { ...(await hostile.credentialHeaders(cred)) };
          if (contentType !== undefined) headers["Content-Type"] = contentType;
          if (header !== undefined) headers["Content-Encoding"] = header;
          const before = await hostile.countEvents();
          const answer = await hostile.send(paths[endpoint], bytes, headers);
          const context = `${cred} ${endpoint} ${contentType} ${encoding} bom=${bom} ${excerpt(text)}`;
          const prediction: RequestPrediction =
            kind !== "json"
              ? { kind: "badRequest" }
              : readable
                ? hostile.oracle.predictRequest(endpoint, decoded, cred)
                : predictUnreadable(bytes, encoding);
          const accepted = hostile.oracle.expectPredicted(answer, prediction, cred, context);
          await hostile.expectStored(before, accepted, cred);
        },
      ),
      runs(100),
    );
  }, 60_000);

  it("when a string holds bytes that are not UTF-8, then they arrive as U+FFFD and never as U+0000 or a surrogate", async () => {
    await fc.assert(
      fc.asyncProperty(credential, invalidUtf8, fc.constantFrom("event", "payload", "resource"), async (cred, bad, where) => {
        const raw = Buffer.from(bad);
        const ws = cred === "machine" ? `,"workspace":"${hostile.tenant.workspaceId}"` : "";
        const parts =
          where === "event"
            ? ['{"event":"a', '","payload":{}', `${ws}}`]
            : where === "payload"
              ? ['{"event":"a","payload":{"s":"x', `"}${ws}}`]
              : ['{"event":"a","payload":{},"resource":"r', `"${ws}}`];
        const body = Buffer.concat([Buffer.from(parts[0] as string), raw, ...parts.slice(1).map((p) => Buffer.from(p))]);
        const before = await hostile.countEvents();
        const answer = await hostile.send(paths.single, body, { ...json, ...(await hostile.credentialHeaders(cred)) });
        const prediction = hostile.oracle.predictRequest("single", body, cred);
        const accepted = hostile.oracle.expectPredicted(answer, prediction, cred, `${cred} ${where} ${raw.toString("hex")}`);
        await hostile.expectStored(before, accepted, cred);
        for (const { item } of accepted) expect(JSON.stringify(item)).toContain("\ufffd");
      }),
      runs(30),
    );
  }, 60_000);
});
