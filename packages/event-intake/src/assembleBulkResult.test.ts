import { describe, expect, it } from "vitest";
import { assembleBulkResult, type ItemOutcome } from "./assembleBulkResult.js";
import { validationError } from "./itemError.js";

type E = { id: string; type: "event" };
const ok = (id: string): ItemOutcome<E> => ({ ok: true, event: { id, type: "event" } });
const bad: ItemOutcome<E> = { ok: false, error: validationError([{ param: "event", msg: "is required" }]) };
const forbidden: ItemOutcome<E> = { ok: false, error: { status: 403, name: "Forbidden", message: "no" } };

describe("assembleBulkResult", () => {
  it.each([
    ["every item accepted", [ok("a"), ok("b")], 201, 0],
    ["one item rejected", [ok("a"), bad, ok("c")], 207, 1],
    ["every item rejected", [bad, forbidden], 207, 2],
    ["a single accepted item", [ok("a")], 201, 0],
  ])("when %s, then the status is %s with the error count", (_case, outcomes, status, errorCount) => {
    const result = assembleBulkResult(outcomes);
    expect(result.status).toBe(status);
    expect(result.body.count).toBe(outcomes.length);
    expect(result.body.error_count).toBe(errorCount);
  });

  it("when items are mixed, then records[i] answers input i with index i", () => {
    const { body } = assembleBulkResult([bad, ok("b"), forbidden, ok("d")]);
    expect(body.records).toEqual([
      {
        type: "error",
        index: 0,
        message: "Bad Request",
        error: { name: "ValidationError", message: "The event is invalid.", data: [{ param: "event", msg: "is required" }] },
      },
      { id: "b", type: "event", index: 1 },
      { type: "error", index: 2, message: "Forbidden", error: { name: "Forbidden", message: "no" } },
      { id: "d", type: "event", index: 3 },
    ]);
  });
});
