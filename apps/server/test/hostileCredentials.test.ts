/**
 * Hostile credentials, property-based (fast-check): publishable keys and machine tokens duplicated,
 * mangled, oversized or combined, on both ingestion endpoints; only an exact credential is accepted.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the error envelope
 * (`{message, error: {name, message, data?}}`); a 201/207 whose `records[i]` answers item `i` as the oracle
 * (support/ingestionOracle.ts) predicts it; and, in the `events` table, exactly the accepted items, each
 * once, with the payload that was sent (as JSON round-trips it).
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileCredentials` replays the run.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCheckRuns } from "./support/fastCheckRuns.js";
import { bearer } from "./support/fixtures.js";
import { type Credential, type Endpoint, expectEnvelope, expectNoServerError, paths } from "./support/ingestionOracle.js";
import { json, useHostileIngestion } from "./support/useHostileIngestion.js";

const runs = fastCheckRuns("hostileCredentials");
const hostile = useHostileIngestion();

describe("hostile headers and methods", () => {
  it("when credentials are duplicated, mangled, oversized or combined, then only an exact credential is accepted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          "exact key",
          "key twice",
          "key with a trailing space",
          "key lower-cased",
          "key plus junk",
          "junk key",
          "very long key",
          "bearer and key",
          "bearer twice",
          "lower-case bearer",
          "bearer without token",
          "bearer with two spaces",
          "basic",
          "empty key",
        ),
        fc.string({ unit: "binary-ascii", maxLength: 64 }),
        fc.constantFrom("single", "bulk") as fc.Arbitrary<Endpoint>,
        async (mutation, junk, endpoint) => {
          const key = hostile.tenant.publishableKey;
          const token = (await bearer(hostile.tenant.machine)).Authorization;
          const printableJunk = junk.replaceAll(/[^\x21-\x7e]/g, "x");
          const headers = new Headers(json);
          let expected: Credential | undefined;
          switch (mutation) {
            case "exact key":
              headers.set("X-Meshes-Publishable-Key", key);
              expected = "publishableKey";
              break;
            case "key twice":
              headers.append("X-Meshes-Publishable-Key", key);
              headers.append("X-Meshes-Publishable-Key", key);
              break;
            case "key with a trailing space":
              // Header values are trimmed by HTTP itself: this is still the exact key.
              headers.set("X-Meshes-Publishable-Key", `${key} `);
              expected = "publishableKey";
              break;
            case "key lower-cased":
              headers.set("X-Meshes-Publishable-Key", key.toLowerCase());
              if (key.toLowerCase() === key) expected = "publishableKey";
              break;
            case "key plus junk":
              headers.set("X-Meshes-Publishable-Key", `${key}${printableJunk || "x"}`);
              break;
            case "junk key":
              headers.set("X-Meshes-Publishable-Key", `mesh_pub_${printableJunk}_${printableJunk}_${printableJunk}`);
              break;
            case "very long key":
              headers.set("X-Meshes-Publishable-Key", `${key}${"a".repeat(12_000)}`);
              break;
            case "bearer and key":
              headers.set("Authorization", token);
              headers.set("X-Meshes-Publishable-Key", `${key}x`);
              expected = "machine";
              break;
            case "bearer twice":
              headers.append("Authorization", token);
              headers.append("Authorization", token);
              break;
            case "lower-case bearer":
              headers.set("Authorization", token.replace("Bearer", "bearer"));
              expected = "machine";
              break;
            case "bearer without token":
              headers.set("Authorization", "Bearer");
              break;
            case "bearer with two spaces":
              headers.set("Authorization", token.replace(" ", "  "));
              break;
            case "basic":
              headers.set("Authorization", `Basic ${Buffer.from(`${printableJunk}:x`).toString("base64")}`);
              break;
            case "empty key":
              headers.set("X-Meshes-Publishable-Key", "");
              break;
          }
          const item = { event: "header.test", payload: { mutation }, workspace: hostile.tenant.workspaceId };
          const text = endpoint === "single" ? JSON.stringify(item) : JSON.stringify([item]);
          const before = await hostile.countEvents();
          const answer = await hostile.send(paths[endpoint], Buffer.from(text), Object.fromEntries(headers));
          const context = `${mutation} (${printableJunk}) ${endpoint}`;
          if (expected === undefined) {
            expectNoServerError(answer, context);
            expect(answer.status, context).toBe(401);
            expect(expectEnvelope(answer).error.name).toBe("Unauthorized");
            await hostile.expectStored(before, [], "publishableKey");
            return;
          }
          const accepted = hostile.oracle.expectPredicted(
            answer,
            hostile.oracle.predictRequest(endpoint, Buffer.from(text), expected),
            expected,
            context,
          );
          await hostile.expectStored(before, accepted, expected);
        },
      ),
      runs(60),
    );
  }, 60_000);
});
