import { type Db, migrateToLatest } from "@switchyard/db";
import { createDatabaseAt } from "@switchyard/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An upgrade of connections and rules made before Meshes' connection shape (0011) to it (0013).

let db: Db;
let close: () => Promise<void>;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ db, close, drop } = await createDatabaseAt("0011_one_rule_for_matching_and_status"));
});

afterAll(async () => {
  await close?.();
  await drop?.();
});

const workspace = "0198a000-0000-7000-8000-0000000000aa";
const [paused, gone, live] = [
  "0198a000-0000-7000-8000-0000000000c1",
  "0198a000-0000-7000-8000-0000000000c2",
  "0198a000-0000-7000-8000-0000000000c3",
];

describe("migration 0013 (connections in Meshes' shape)", () => {
  it("when connections and rules exist, then the upgrade gives them Meshes' fields, renames the send action and makes each a generated mapping", async () => {
    await sql`insert into organizations (id, name) values ('0198a000-0000-4000-8000-000000000001', 'Old')`.execute(db);
    await sql`insert into workspaces (id, organization_id, name) values (${workspace}, '0198a000-0000-4000-8000-000000000001', 'Old')`.execute(
      db,
    );
    await sql`insert into connections (id, workspace_id, integration_type, name, metadata, secrets_ciphertext, active, inactive_reason) values
      (${paused}, ${workspace}, 'webhook', 'paused', '{}', 'x', false, 'deactivated through the API'),
      (${gone}, ${workspace}, 'webhook', 'gone', '{}', 'x', false, 'the destination answered 410 Gone'),
      (${live}, ${workspace}, 'webhook', 'live', '{}', 'x', true, null)`.execute(db);
    await sql`insert into rules (id, workspace_id, connection_id, event, metadata) values
      ('0198a000-0000-7000-8000-0000000000e1', ${workspace}, ${live}, 'a', '{"action": "send"}'),
      ('0198a000-0000-7000-8000-0000000000e2', ${workspace}, ${live}, 'b', '{"action": "send_webhook"}')`.execute(db);

    expect(await migrateToLatest(db)).toContain("0013_connections_parity");

    const connections = await sql<{ name: string; hidden: boolean; created_by: string; inactive_reason_code: string | null }>`
      select name, hidden, created_by, inactive_reason_code from connections order by id`.execute(db);
    expect(connections.rows).toEqual([
      { name: "paused", hidden: false, created_by: "system", inactive_reason_code: "manually_inactivated" },
      { name: "gone", hidden: false, created_by: "system", inactive_reason_code: null },
      { name: "live", hidden: false, created_by: "system", inactive_reason_code: null },
    ]);
    const rules = await sql<{ action: string }>`select metadata ->> 'action' as action from rules order by id`.execute(db);
    expect(rules.rows.map((r) => r.action)).toEqual(["send_webhook", "send_webhook"]);

    const mappings = await sql<{ connection_id: string; id: string; mapping_id: string; version: number; status: string; schema: unknown }>`
      select connection_id, id, mapping_id, version, status, schema from connection_default_mappings order by connection_id`.execute(db);
    expect(mappings.rows.map((m) => [m.connection_id, m.version, m.status, m.schema])).toEqual(
      [paused, gone, live].map((id) => [id, 1, "generated", { schema_version: 1, fields: [] }]),
    );
    // The ids Switchyard makes: UUIDv7, all distinct.
    const ids = mappings.rows.flatMap((m) => [m.id, m.mapping_id]);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(6);
  });
});
