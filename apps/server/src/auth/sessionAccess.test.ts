import { describe, expect, it } from "vitest";
import { loadSpec } from "../http/openApiSpec.js";
import { checkSessionAccessTable, sessionOperations } from "./sessionAccess.js";

describe("checkSessionAccessTable", () => {
  it("when the spec is the shipped one, then the table governs exactly its session-token operations", async () => {
    const spec = await loadSpec();
    expect(() => checkSessionAccessTable(spec)).not.toThrow();
  });

  it("when the spec lets sessions call an operation the table does not govern, then start-up fails naming it", async () => {
    const spec = await loadSpec();
    const createWorkspace = spec.paths["/api/v1/workspaces"]?.post;
    if (createWorkspace === undefined) throw new Error("no createWorkspace in the spec");
    createWorkspace.security = [{ machineJwt: [] }, { sessionToken: [] }];
    expect(() => checkSessionAccessTable(spec)).toThrow(/createWorkspace/);
  });

  it("when the table governs an operation the spec closes to sessions, then start-up fails naming it", async () => {
    const spec = await loadSpec();
    const getEvent = spec.paths["/api/v1/events/{id}"]?.get;
    if (getEvent === undefined) throw new Error("no getEvent in the spec");
    getEvent.security = [{ machineJwt: [] }];
    expect(() => checkSessionAccessTable(spec)).toThrow(/getEvent/);
  });

  it("when reading the table, then reads need member, retry and cancel admin, and only the payload needs a scope", () => {
    const writes = Object.entries(sessionOperations).filter(([, op]) => op.role !== "member");
    expect(writes.map(([id]) => id).sort()).toEqual(["cancelDelivery", "retryDelivery"]);
    const scoped = Object.entries(sessionOperations).filter(([, op]) => op.scope !== undefined);
    expect(scoped).toEqual([["getEventPayload", expect.objectContaining({ scope: "events.payload:read" })]]);
  });
});
