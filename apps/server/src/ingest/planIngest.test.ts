import { type ItemVerdict, type ValidEventInput, validationError } from "@switchyard/event-intake";
import { describe, expect, it } from "vitest";
import type { Principal } from "../auth/principal.js";
import type { RememberedEvent } from "./idempotencyKeys.repository.js";
import { assembleOutcomes, eventsByWorkspace, type PlanOptions, planIngest, rejectedOutcomes, takenKeys } from "./planIngest.js";

const ws = "0190d6a0-0000-7000-8000-000000000001";
const otherWs = "0190d6a0-0000-7000-8000-000000000002";
const keyPrincipal: Principal = { kind: "publishableKey", workspaceId: ws, workspaceActive: true, publicKey: `mesh_pub_${ws}_k1` };
const machine: Principal = { kind: "machine", organizationId: "0190d6a0-0000-7000-8000-0000000000aa", accessKey: "mk_test" };
const createdAt = new Date("2026-01-02T03:04:05.678Z");

function valid(input: Partial<ValidEventInput> = {}): ItemVerdict {
  const payload = input.payload ?? { n: 1 };
  return { ok: true, value: { event: "contact.created", payload, payloadJson: JSON.stringify(payload), ...input } };
}

/** Workspaces of the machine token's organization, all active. */
function active(...ids: string[]): Map<string, boolean> {
  return new Map(ids.map((id) => [id, true]));
}

/** Options with ids `e0`, `e1`, … in the order rows are made. */
function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  let next = 0;
  return { principal: keyPrincipal, organizationWorkspaces: new Map(), newId: () => `e${next++}`, ...overrides };
}

function remembered(overrides: Partial<RememberedEvent> = {}): RememberedEvent {
  return {
    workspace_id: ws,
    key: "k",
    same_payload: true,
    id: "original",
    event: "contact.created",
    resource: "global",
    resource_id: null,
    status: "completed",
    created_by: "mk_earlier",
    created_at: new Date("2026-01-01T00:00:00.000Z"),
    ...overrides,
  };
}

describe("planIngest", () => {
  it("when an item is invalid, then its verdict is its answer and nothing of it is stored", () => {
    const invalid: ItemVerdict = { ok: false, error: validationError([{ param: "event", msg: "is required" }]) };
    const plan = planIngest([invalid, valid()], options());
    expect(plan.stages[0]).toBe(invalid);
    expect(plan.toStore.map((r) => r.id)).toEqual(["e0"]);
  });

  it("when an item is stored, then its row carries the workspace, the creator, the defaults and the serialized payload", () => {
    const plan = planIngest([valid({ payload: { b: 2 } })], options());
    expect(plan.toStore).toEqual([
      {
        id: "e0",
        workspace_id: ws,
        event: "contact.created",
        resource: "global",
        resource_id: null,
        payloadJson: '{"b":2}',
        created_by: `mesh_pub_${ws}_k1`,
        idempotency_key: undefined,
      },
    ]);
  });

  it.each([
    ["a publishable key names another workspace", keyPrincipal, { workspace: otherWs }, 403, "Forbidden"],
    ["a machine token names no workspace", machine, {}, 400, "ValidationError"],
    ["a machine token names a workspace outside its organization", machine, { workspace: otherWs }, 403, "Forbidden"],
    ["the item's key differs from the Idempotency-Key header", keyPrincipal, { idempotency_key: "a" }, 400, "ValidationError"],
    ["a publishable key's workspace is inactive", { ...keyPrincipal, workspaceActive: false }, {}, 403, "WorkspaceInactive"],
  ] as const)("when %s, then the item is rejected and not stored", (_case, principal, input, status, name) => {
    const plan = planIngest([valid(input)], options({ principal, organizationWorkspaces: active(ws), headerKey: "b" }));
    expect(plan.stages[0]).toMatchObject({ ok: false, error: { status, name } });
    expect(plan.toStore).toEqual([]);
    expect(rejectedOutcomes(plan)).toEqual(plan.stages);
  });

  it("when a machine token names an inactive workspace of its organization, then the item is refused 403 WorkspaceInactive", () => {
    const plan = planIngest([valid({ workspace: ws })], options({ principal: machine, organizationWorkspaces: new Map([[ws, false]]) }));
    expect(plan.stages[0]).toMatchObject({ ok: false, error: { status: 403, name: "WorkspaceInactive" } });
    expect(plan.toStore).toEqual([]);
  });

  it("when a machine token names a workspace of its organization, then the row is stored there by its access key", () => {
    const plan = planIngest([valid({ workspace: ws })], options({ principal: machine, organizationWorkspaces: active(ws) }));
    expect(plan.toStore).toMatchObject([{ workspace_id: ws, created_by: "mk_test" }]);
  });

  it.each([
    ["the header alone", { headerKey: "h" }, {}, "h"],
    ["the item's key equal to the header", { headerKey: "h" }, { idempotency_key: "h" }, "h"],
    ["a bulk header, for an item without a key", { bulkHeaderKey: "b" }, {}, "b:0"],
    ["a bulk header, for an item with its own key", { bulkHeaderKey: "b" }, { idempotency_key: "own" }, "own"],
  ] as const)("when a key comes from %s, then the row is keyed %s", (_case, keys, input, expected) => {
    const plan = planIngest([valid(input)], options(keys));
    expect(plan.toStore[0]?.idempotency_key).toBe(expected);
  });

  it("when a key repeats within the batch in one workspace, then the repeat points at its first use and only the first is stored", () => {
    const keyed = planIngest(
      [valid({ idempotency_key: "k" }), valid({ idempotency_key: "x" }), valid({ idempotency_key: "k" })],
      options(),
    );
    expect(keyed.stages[2]).toMatchObject({ sameKeyAs: 0 });
    expect(keyed.toStore.map((r) => r.idempotency_key)).toEqual(["k", "x"]);
  });

  it("when one key is used in two workspaces, then neither is a repeat of the other", () => {
    const plan = planIngest(
      [valid({ workspace: ws, idempotency_key: "k" }), valid({ workspace: otherWs, idempotency_key: "k" })],
      options({ principal: machine, organizationWorkspaces: active(ws, otherWs) }),
    );
    expect(plan.toStore.map((r) => r.workspace_id)).toEqual([ws, otherWs]);
  });
});

describe("eventsByWorkspace and takenKeys", () => {
  it("when rows of two workspaces are about to be stored, then each workspace counts its own", () => {
    const plan = planIngest(
      [valid({ workspace: ws }), valid({ workspace: otherWs }), valid({ workspace: ws })],
      options({ principal: machine, organizationWorkspaces: active(ws, otherWs) }),
    );
    expect(eventsByWorkspace(plan.toStore)).toEqual(
      new Map([
        [ws, 2],
        [otherWs, 1],
      ]),
    );
  });

  it("when the write stored some rows, then the keys of the others are looked up with their payloads", () => {
    const plan = planIngest([valid({ idempotency_key: "k" }), valid({ idempotency_key: "x", payload: { x: true } })], options());
    expect(takenKeys(plan.toStore, new Map([["e0", "pending"]]))).toEqual([{ workspaceId: ws, key: "x", payloadJson: '{"x":true}' }]);
  });
});

describe("assembleOutcomes", () => {
  it("when a row was stored, then its answer is the event with the status routing gave it and the statement's time", () => {
    const plan = planIngest([valid()], options());
    const [outcome] = assembleOutcomes(plan, { createdAt, stored: new Map([["e0", "pending"]]) }, []);
    expect(outcome).toEqual({
      ok: true,
      event: {
        id: "e0",
        type: "event",
        workspace: ws,
        event: "contact.created",
        resource: "global",
        resource_id: null,
        status: "pending",
        created_by: `mesh_pub_${ws}_k1`,
        created_at: "2026-01-02T03:04:05.678Z",
      },
    });
  });

  it.each([
    ["the same event", {}, { ok: true, event: { id: "original", status: "completed", duplicate: true } }],
    ["a different payload", { same_payload: false }, { ok: false, error: { status: 409, name: "IdempotencyConflict" } }],
    ["a different event name", { event: "other" }, { ok: false, error: { status: 409, name: "IdempotencyConflict" } }],
    ["a different resource", { resource: "user" }, { ok: false, error: { status: 409, name: "IdempotencyConflict" } }],
  ] as const)("when the key was already taken by %s, then the answer is %j", (_case, original, expected) => {
    const plan = planIngest([valid({ idempotency_key: "k" })], options());
    const outcomes = assembleOutcomes(plan, { createdAt, stored: new Map() }, [remembered(original)]);
    expect(outcomes).toMatchObject([expected]);
  });

  it("when a taken key's original is not found either, then assembling fails loudly", () => {
    const plan = planIngest([valid({ idempotency_key: "k" })], options());
    expect(() => assembleOutcomes(plan, { createdAt, stored: new Map() }, [])).toThrow(/neither claimed nor found/);
  });

  it("when a key repeats within the batch, then the repeat answers like its first use, marked duplicate", () => {
    const plan = planIngest(
      [valid({ idempotency_key: "k", payload: { a: 1, b: 2 } }), valid({ idempotency_key: "k", payload: { b: 2, a: 1 } })],
      options(),
    );
    const outcomes = assembleOutcomes(plan, { createdAt, stored: new Map([["e0", "completed"]]) }, []);
    expect(outcomes).toMatchObject([
      { ok: true, event: { id: "e0" } },
      { ok: true, event: { id: "e0", duplicate: true } },
    ]);
    expect(outcomes[0]).not.toHaveProperty("event.duplicate");
  });

  it("when a repeat within the batch is a different event, then it is a conflict naming the event that owns the key", () => {
    const plan = planIngest([valid({ idempotency_key: "k" }), valid({ idempotency_key: "k", payload: { n: 2 } })], options());
    const fresh = assembleOutcomes(plan, { createdAt, stored: new Map([["e0", "pending"]]) }, []);
    expect(fresh[1]).toMatchObject({ ok: false, error: { name: "IdempotencyConflict", data: [{ msg: expect.stringContaining("e0") }] } });

    const taken = assembleOutcomes(plan, { createdAt, stored: new Map() }, [remembered()]);
    expect(taken[0]).toMatchObject({ ok: true, event: { id: "original", duplicate: true } });
    expect(taken[1]).toMatchObject({ ok: false, error: { data: [{ msg: expect.stringContaining("original") }] } });
  });

  it("when a key's first use in the batch is a conflict, then a same-event repeat gets that conflict too", () => {
    const plan = planIngest([valid({ idempotency_key: "k" }), valid({ idempotency_key: "k" })], options());
    const outcomes = assembleOutcomes(plan, { createdAt, stored: new Map() }, [remembered({ same_payload: false })]);
    expect(outcomes[1]).toBe(outcomes[0]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { name: "IdempotencyConflict" } });
  });

  it("when items are rejected, stored and repeated in one batch, then every item is answered in input order", () => {
    const invalid: ItemVerdict = { ok: false, error: validationError([{ param: "payload", msg: "is required" }]) };
    const plan = planIngest([valid({ idempotency_key: "k" }), invalid, valid(), valid({ idempotency_key: "k" })], options());
    const outcomes = assembleOutcomes(
      plan,
      {
        createdAt,
        stored: new Map([
          ["e0", "pending"],
          ["e1", "completed"],
        ]),
      },
      [],
    );
    expect(outcomes.map((o) => (o.ok ? `${o.event.id}${o.event.duplicate ? " duplicate" : ""}` : o.error.name))).toEqual([
      "e0",
      "ValidationError",
      "e1",
      "e0 duplicate",
    ]);
  });
});
