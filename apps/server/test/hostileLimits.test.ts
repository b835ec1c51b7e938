/**
 * The size limits under hostile input, property-based (fast-check): event names, payloads and whole bodies
 * around the 255-character, 64 KiB and 1 MiB limits, plain and compressed.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the error envelope
 * (`{message, error: {name, message, data?}}`); a 201/207 whose `records[i]` answers item `i` as the oracle
 * (support/ingestionOracle.ts) predicts it; and, in the `events` table, exactly the accepted items, each
 * once, with the payload that was sent (as JSON round-trips it).
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileLimits` replays the run.
 */
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCheckRuns } from "./support/fastCheckRuns.js";
import { credential, megabyteBatch, sizedBody, sizedPayloadText } from "./support/hostileArbitraries.js";
import { paths } from "./support/ingestionOracle.js";
import { testConfig } from "./support/testServer.js";
import { json, useHostileIngestion } from "./support/useHostileIngestion.js";

const runs = fastCheckRuns("hostileLimits");
const { maxBodyBytes } = testConfig;
const hostile = useHostileIngestion();

describe("hostile bodies", () => {
  it("when strings near the 255 / 64 KiB / 1 MiB limits are sent, then each limit holds to the byte", async () => {
    const near = (limit: number) => fc.integer({ min: limit - 4, max: limit + 4 });
    await fc.assert(
      fc.asyncProperty(
        credential,
        fc.oneof(
          // An event name (255 characters and far more) making the body about 1 MiB: 413 above it, else a per-item 400.
          fc
            .tuple(near(maxBodyBytes), fc.constantFrom("e", "é", "😀"))
            .map(([bytes, unit]) => ({ endpoint: "single" as const, bytes, unit })),
          // A payload exactly around 64 KiB, alone or in a batch of valid items.
          sizedPayloadText.map((payload) => ({ endpoint: "single" as const, text: `{"event":"sized","payload":${payload}}` })),
          fc.tuple(sizedPayloadText, fc.nat(3)).map(([payload, before]) => ({
            endpoint: "bulk" as const,
            text: `[${[
              ...Array.from({ length: before }, () => '{"event":"small","payload":{}}'),
              `{"event":"sized","payload":${payload}}`,
              '{"event":"after","payload":{}}',
            ].join(",")}]`,
          })),
        ),
        async (cred, sized) => {
          const workspace = cred === "machine" ? `,"workspace":"${hostile.tenant.workspaceId}"` : "";
          const text =
            "text" in sized
              ? sized.text.replaceAll('"payload":', `${workspace.slice(1)}${workspace && ","}"payload":`)
              : sizedBody(sized, workspace);
          if ("bytes" in sized) expect(Buffer.byteLength(text)).toBe(sized.bytes);
          await hostile.sendAndCheck(sized.endpoint, text, cred);
        },
      ),
      runs(24),
    );
  }, 60_000);

  it("when a batch of valid items is just under or over 1 MiB, then it is stored whole or answered 413 with nothing stored", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: maxBodyBytes - 3, max: maxBodyBytes + 3 }), fc.boolean(), async (bytes, gzip) => {
        const text = megabyteBatch(bytes);
        expect(Buffer.byteLength(text)).toBe(bytes);
        if (!gzip) {
          await hostile.sendAndCheck("bulk", text, "publishableKey");
          return;
        }
        // Compressed, the limit applies to the inflated body.
        const before = await hostile.countEvents();
        const answer = await hostile.send(paths.bulk, gzipSync(text), {
          ...json,
          "Content-Encoding": "gzip",
          ...(await hostile.credentialHeaders("publishableKey")),
        });
        const accepted = hostile.oracle.expectPredicted(
          answer,
          hostile.oracle.predictRequest("bulk", Buffer.from(text), "publishableKey"),
          "publishableKey",
          `gzip ${bytes}`,
        );
        await hostile.expectStored(before, accepted, "publishableKey");
      }),
      runs(6),
    );
  }, 60_000);
});
