/**
 * Hostile JSON bodies, property-based (fast-check), against the real server and database: generated JSON and
 * near-JSON, hostile items and items PostgreSQL cannot store, posted as one event and as batches.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the error envelope
 * (`{message, error: {name, message, data?}}`); a 201/207 whose `records[i]` answers item `i` as the oracle
 * (support/ingestionOracle.ts) predicts it; and, in the `events` table, exactly the accepted items, each
 * once, with the payload that was sent (as JSON round-trips it).
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileJsonBodies` replays the run.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCheckRuns } from "./support/fastCheckRuns.js";
import {
  anyItemText,
  batchText,
  credential,
  hostileItemText,
  poisonedItemText,
  truncated,
  validItemText,
  valueText,
} from "./support/hostileArbitraries.js";
import { testConfig } from "./support/testServer.js";
import { Outcomes, useHostileIngestion } from "./support/useHostileIngestion.js";

const runs = fastCheckRuns("hostileJsonBodies");
const { limits } = testConfig;
const hostile = useHostileIngestion();

describe("hostile bodies", () => {
  it("when anything is posted as one event, then the answer is what the oracle predicts and only an accepted event is stored", async () => {
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.tuple(
            fc.constant(cred),
            fc.oneof(
              { weight: 4, arbitrary: hostileItemText(hostile.workspaces) },
              { weight: 2, arbitrary: validItemText(hostile.workspaces, cred) },
              { weight: 2, arbitrary: poisonedItemText(hostile.workspaces, cred) },
              { weight: 1, arbitrary: fc.json() },
              { weight: 1, arbitrary: valueText },
              { weight: 1, arbitrary: truncated(validItemText(hostile.workspaces, cred)) },
              { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
              {
                weight: 1,
                arbitrary: fc.constantFrom(
                  "",
                  " ",
                  "\n\t",
                  "{",
                  "[",
                  "{}",
                  "[]",
                  "null",
                  "0",
                  '""',
                  "{,}",
                  "{'a':1}",
                  "NaN",
                  "[1,]",
                  "\u0000",
                ),
              },
            ),
            fc.constantFrom("", "", "", "\ufeff", " \r\n", "\ufeff\ufeff"),
          ),
        ),
        async ([cred, text, prefix]) => {
          outcomes.add((await hostile.sendAndCheck("single", prefix + text, cred)).prediction);
        },
      ),
      runs(150),
    );
    outcomes.expectReached("accepted", "ValidationError", "badRequest", "param:payload", "param:workspace");
  }, 60_000);

  it("when anything is posted as a batch, then records[i] answers item i as the oracle predicts and exactly the accepted items are stored once", async () => {
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.tuple(
            fc.constant(cred),
            fc.oneof(
              { weight: 8, arbitrary: batchText(fc.array(anyItemText(hostile.workspaces, cred), { minLength: 1, maxLength: 12 })) },
              {
                weight: 1,
                arbitrary: batchText(
                  fc.array(fc.oneof(validItemText(hostile.workspaces, cred), poisonedItemText(hostile.workspaces, cred)), {
                    minLength: limits.maxBatchItems - 3,
                    maxLength: limits.maxBatchItems + 3,
                  }),
                ),
              },
              {
                weight: 1,
                arbitrary: fc.oneof(
                  fc.json(),
                  valueText,
                  truncated(batchText(fc.array(validItemText(hostile.workspaces, cred), { maxLength: 4 }))),
                ),
              },
            ),
          ),
        ),
        async ([cred, text]) => {
          outcomes.add((await hostile.sendAndCheck("bulk", text, cred)).prediction);
        },
      ),
      runs(120),
    );
    outcomes.expectReached("accepted", "ValidationError", "Forbidden", "badRequest", "param:item", "param:idempotency_key");
  }, 60_000);

  it("when a batch mixes valid items with items PostgreSQL cannot store, then only those are rejected and every valid item is stored once", async () => {
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.tuple(
            fc.constant(cred),
            fc.array(fc.oneof(validItemText(hostile.workspaces, cred), poisonedItemText(hostile.workspaces, cred)), {
              minLength: 2,
              maxLength: 20,
            }),
          ),
        ),
        async ([cred, items]) => {
          const { accepted } = await hostile.sendAndCheck("bulk", `[${items.join(",")}]`, cred);
          const valid = items.filter((text) => hostile.oracle.predictItem(JSON.parse(text), cred, "item").type === "event");
          expect(accepted).toHaveLength(valid.length);
        },
      ),
      runs(60),
    );
  }, 60_000);
});
