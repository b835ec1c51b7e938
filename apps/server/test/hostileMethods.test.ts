/**
 * Hostile methods and paths, property-based (fast-check): every method the spec does not document on an
 * ingestion path, and near-miss spellings of the paths, answer a 4xx in the envelope and store nothing.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the error envelope
 * (`{message, error: {name, message, data?}}`); a 201/207 whose `records[i]` answers item `i` as the oracle
 * (support/ingestionOracle.ts) predicts it; and, in the `events` table, exactly the accepted items, each
 * once, with the payload that was sent (as JSON round-trips it).
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileMethods` replays the run.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCheckRuns } from "./support/fastCheckRuns.js";
import { credential } from "./support/hostileArbitraries.js";
import { expectEnvelope, expectNoServerError, paths } from "./support/ingestionOracle.js";
import { rawHttp } from "./support/rawHttp.js";
import { json, useHostileIngestion } from "./support/useHostileIngestion.js";

const runs = fastCheckRuns("hostileMethods");
const hostile = useHostileIngestion();

describe("hostile headers and methods", () => {
  it("when an ingestion path is called with a method it does not support, then it answers a 4xx in the envelope and stores nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        // OPTIONS is supported: the ingestion paths answer CORS preflights.
        fc.constantFrom("GET", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "PROPFIND", "PURGE", "LOCK", "SEARCH"),
        fc.constantFrom(
          [paths.single, paths.single],
          [paths.bulk, paths.bulk],
          ["/api/v1/events/", paths.single],
          ["/api/v1/events/bulk/", paths.bulk],
          ["/API/V1/EVENTS", paths.single],
          ["/api/v1/events//bulk", paths.bulk],
        ),
        credential,
        async (method, [path, canonical], cred) => {
          // Only methods the spec leaves undocumented there (HEAD goes with GET).
          const documented = hostile.documentedMethods[canonical] ?? new Set();
          fc.pre(!documented.has(method) && !(method === "HEAD" && documented.has("GET")));
          const before = await hostile.countEvents();
          const body = method === "GET" || method === "HEAD" || method === "TRACE" ? undefined : '{"event":"method.test","payload":{}}';
          const answer = await rawHttp(hostile.server.baseUrl, method, path, { ...json, ...(await hostile.credentialHeaders(cred)) }, body);
          const context = `${method} ${path}`;
          expectNoServerError(answer, context);
          expect(answer.status, context).toBeGreaterThanOrEqual(400);
          if (method !== "HEAD") expectEnvelope(answer);
          await hostile.expectStored(before, [], cred);
        },
      ),
      runs(40),
    );
  }, 60_000);
});
