import { expect } from "vitest";
import { loadSpec } from "../../src/http/openApiSpec.js";
import { bearer, createTenant, type Tenant } from "./fixtures.js";
import { type Workspaces, withFreshKeys } from "./hostileArbitraries.js";
import {
  type Accepted,
  type Answer,
  type Credential,
  type Endpoint,
  excerpt,
  type IngestionOracle,
  ingestionOracle,
  paths,
  type RequestPrediction,
  toAnswer,
} from "./ingestionOracle.js";
import type { TestServer } from "./testServer.js";
import { useTestServer } from "./useTestServer.js";

/** No request may take longer; a hang fails the property instead of the whole run. */
const requestTimeoutMs = 10_000;

export const json = { "Content-Type": "application/json" };

/** A test file's server and tenant under hostile ingestion, with the oracle for that tenant and the checks of the table. */
export interface HostileIngestion {
  readonly server: TestServer;
  readonly tenant: Tenant;
  /** The tenant's workspace, and another organization's (foreign to both of the tenant's credentials). */
  readonly workspaces: Workspaces;
  readonly oracle: IngestionOracle;
  /** The methods the spec documents on each ingestion path (others are unsupported there). */
  readonly documentedMethods: Record<string, ReadonlySet<string>>;
  readonly send: (path: string, body: Uint8Array | undefined, headers: Record<string, string>, method?: string) => Promise<Answer>;
  readonly credentialHeaders: (credential: Credential) => Promise<Record<string, string>>;
  /** Rows in `events`. */
  readonly countEvents: () => Promise<number>;
  /** Exactly the accepted items were added since `countBefore`, each once, with what was sent; nothing of a rejected one. */
  readonly expectStored: (countBefore: number, accepted: readonly Accepted[], credential: Credential) => Promise<void>;
  /** Sends one JSON body, checks the answer against the oracle and the table against the answer. */
  readonly sendAndCheck: (
    endpoint: Endpoint,
    generated: string,
    credential: Credential,
    extraHeaders?: Record<string, string>,
  ) => Promise<{ answer: Answer; accepted: Accepted[]; prediction: RequestPrediction }>;
}

/**
 * A test file's set-up for hostile ingestion (see useTestServer): a server, a tenant and a stranger's
 * workspace, and the fields and methods the spec declares, read once it has started.
 */
export function useHostileIngestion(): HostileIngestion {
  let server: TestServer;
  let tenant: Tenant;
  let workspaces: Workspaces;
  let oracle: IngestionOracle;
  let documentedMethods: Record<string, ReadonlySet<string>>;
  useTestServer({ tenant: "Acme" }, async (file) => {
    ({ server, tenant } = file);
    const stranger = await createTenant(server.db, server.secretBox, "Stranger");
    workspaces = { own: tenant.workspaceId, foreign: stranger.workspaceId };
    const spec = await loadSpec();
    const { properties } = spec.components.schemas.EventInput as { properties: Record<string, unknown> };
    oracle = ingestionOracle(tenant, new Set(Object.keys(properties)));
    documentedMethods = Object.fromEntries(
      Object.values(paths).map((path) => [path, new Set(Object.keys(spec.paths[path] ?? {}).map((m) => m.toUpperCase()))]),
    );
  });

  async function send(path: string, body: Uint8Array | undefined, headers: Record<string, string>, method = "POST"): Promise<Answer> {
    const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(requestTimeoutMs) });
    return toAnswer(response.status, await response.text());
  }

  async function credentialHeaders(credential: Credential): Promise<Record<string, string>> {
    return credential === "machine" ? bearer(tenant.machine) : { "X-Meshes-Publishable-Key": tenant.publishableKey };
  }

  async function countEvents(): Promise<number> {
    const row = await server.db
      .selectFrom("events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function expectStored(countBefore: number, accepted: readonly Accepted[], credential: Credential): Promise<void> {
    expect((await countEvents()) - countBefore, "rows added = items accepted").toBe(accepted.length);
    if (accepted.length === 0) return;
    expect(new Set(accepted.map((a) => a.id)).size).toBe(accepted.length);
    const rows = await server.db
      .selectFrom("events")
      .select(["id", "workspace_id", "event", "resource", "resource_id", "payload", "created_by"])
      .where(
        "id",
        "in",
        accepted.map((a) => a.id),
      )
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const { id, item } of accepted) {
      expect(byId.get(id), `stored row ${id}`).toEqual({
        id,
        workspace_id: tenant.workspaceId,
        event: item.event,
        resource: item.resource ?? "global",
        resource_id: item.resource_id ?? null,
        // What the server promises to keep: the payload as JSON round-trips it (-0 is 0, 1e-400 is 0).
        payload: JSON.parse(JSON.stringify(item.payload)),
        created_by: credential === "machine" ? tenant.machine.accessKey : tenant.publishableKey.replace(/_[^_]+$/, ""),
      });
    }
  }

  async function sendAndCheck(endpoint: Endpoint, generated: string, credential: Credential, extraHeaders: Record<string, string> = {}) {
    const text = withFreshKeys(generated);
    const bytes = Buffer.from(text, "utf8");
    const before = await countEvents();
    const answer = await send(paths[endpoint], bytes, { ...json, ...(await credentialHeaders(credential)), ...extraHeaders });
    const context = `${credential} ${endpoint} ${excerpt(text)}`;
    const prediction = oracle.predictRequest(endpoint, bytes, credential);
    const accepted = oracle.expectPredicted(answer, prediction, credential, context);
    await expectStored(before, accepted, credential);
    return { answer, accepted, prediction };
  }

  return {
    get server() {
      return server;
    },
    get tenant() {
      return tenant;
    },
    get workspaces() {
      return workspaces;
    },
    get oracle() {
      return oracle;
    },
    get documentedMethods() {
      return documentedMethods;
    },
    send,
    credentialHeaders,
    countEvents,
    expectStored,
    sendAndCheck,
  };
}

/**
 * Counts the outcomes a property's cases reached, so that a generator that drifted into producing only
 * one kind of case (say, nothing but rejections) fails the property instead of passing it emptily.
 */
export class Outcomes {
  readonly #seen = new Map<string, number>();

  add(prediction: RequestPrediction): void {
    const verdicts = prediction.kind === "single" ? [prediction.verdict] : prediction.kind === "bulk" ? prediction.verdicts : [];
    if (verdicts.length === 0) this.#count(prediction.kind);
    for (const verdict of verdicts) {
      this.#count(verdict.type === "event" ? "accepted" : verdict.name);
      if (verdict.type === "error" && verdict.name === "ValidationError") for (const param of verdict.params) this.#count(`param:${param}`);
    }
  }

  expectReached(...outcomes: string[]): void {
    for (const outcome of outcomes) expect(this.#seen.get(outcome) ?? 0, `cases reaching ${outcome}`).toBeGreaterThan(0);
  }

  #count(outcome: string): void {
    this.#seen.set(outcome, (this.#seen.get(outcome) ?? 0) + 1);
  }
}
