import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient, createConfig, createEventsBulk, getWorkspace, mintMachineToken } from "@switchyard/client";
import { freePort, sleep, waitFor } from "@switchyard/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const serverDir = new URL("..", import.meta.url).pathname;

/**
 * The README's path, as a new user takes it: the built server started with no DATABASE_URL (so on an
 * embedded PostgreSQL in a fresh data folder), the printed curl, the CLI beside the running server, a
 * restart that keeps the data.
 */
describe("first run on the embedded database", () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "switchyard-first-run-"));
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    env = { ...rest, PORT: String(port), SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_EMBEDDED_PG_PORT: String(await freePort()) };
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts `node dist/main.js` and resolves with its output once it listens (and, on a first run, has printed its banner). */
  async function start(run: "first run" | "restart"): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, ["dist/main.js"], { cwd: serverDir, env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    // A first run's banner follows the listening line; its last line is the curl's `-d '…'`.
    const started = (text: string) => text.includes('"switchyard listening"') && (run === "restart" || /\n {4}-d '.*'\n/.test(text));
    await waitFor(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited:\n${output}`);
        return output;
      },
      { what: `the server to start (${run})`, until: started, timeoutMs: 60_000 },
    );
    // On a restart, what is under test is that nothing follows: a second banner would be written right after
    // the listening line, so give it a moment not to come.
    if (run === "restart") await sleep(50);
    return { child, output: () => output };
  }

  async function stop(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    return exited;
  }

  it("then the printed curl answers 201, the CLI works beside it, and a restart keeps the data", async () => {
    const first = await start("first run");
    const printed = first.output();
    expect(printed).toContain("Switchyard first run");
    const publishableKey = /Publishable key: +(\S+)/.exec(printed)?.[1] ?? "";
    const curlStart = printed.indexOf("  curl -i");
    const curl = printed.slice(curlStart, printed.indexOf("\n", printed.indexOf(" -d '", curlStart))).trim();

    // The curl, exactly as printed.
    const { stdout } = await run("bash", ["-c", curl]);
    expect(stdout).toMatch(/^HTTP\/1\.1 201 Created/);
    expect(JSON.parse(stdout.slice(stdout.indexOf("{")))).toMatchObject({ event: { type: "event", event: "contact.created" } });

    // A mixed batch through the generated client.
    const client = createClient(createConfig({ baseUrl }));
    const bulk = await createEventsBulk({
      client,
      headers: { "X-Meshes-Publishable-Key": publishableKey },
      body: [
        { event: "a", payload: {} },
        { event: "", payload: {} },
      ],
    });
    expect(bulk.response?.status).toBe(207);
    expect(bulk.data?.records.map((r) => r.type)).toEqual(["event", "error"]);

    // The CLI, beside the running server, on the same embedded database and encryption key.
    const cli = async (...args: string[]) =>
      JSON.parse((await run(process.execPath, ["dist/cli.js", ...args], { cwd: serverDir, env })).stdout);
    const organization = await cli("org", "create", "--name", "Acme");
    const key = await cli("access-key", "create", "--org", organization.id);
    const created = await cli("workspace", "create", "--org", organization.id, "--name", "Production");
    const token = await mintMachineToken({ accessKey: key.accessKey, secretKey: key.secretKey, organizationId: organization.id });
    const fetched = await getWorkspace({ client, headers: { Authorization: `Bearer ${token}` }, path: { id: created.workspace.id } });
    expect(fetched.response?.status).toBe(200);
    expect(fetched.data?.name).toBe("Production");

    expect(await stop(first.child)).toBe(0);

    // Restart: no second first run, the same key works, the data is still there.
    const second = await start("restart");
    expect(second.output()).not.toContain("first run");
    const again = await createEventsBulk({
      client,
      headers: { "X-Meshes-Publishable-Key": publishableKey },
      body: [{ event: "b", payload: {} }],
    });
    expect(again.response?.status).toBe(201);
    const password = (await readFile(join(dataDir, "embedded-postgres.password"), "utf8")).trim();
    const db = new pg.Client({
      connectionString: `postgres://postgres:${password}@127.0.0.1:${env.SWITCHYARD_EMBEDDED_PG_PORT}/switchyard`,
    });
    await db.connect();
    const { rows } = await db.query<{ event: string }>("select event from events order by id");
    await db.end();
    expect(rows.map((r) => r.event)).toEqual(["contact.created", "a", "b"]);
    expect(await stop(second.child)).toBe(0);
  });
});
