import { createTestDatabase } from "@switchyard/testing";
import { afterAll, beforeAll } from "vitest";
import { createTenant, type Tenant } from "./fixtures.js";
import { startTestServer, type TestServer, type TestServerConfig } from "./testServer.js";

/** What `useTestServer` set up for a test file; readable from its `beforeAll` on. */
export interface TestServerFile {
  /** The file's own database, cloned from the run's migrated template. */
  readonly databaseUrl: string;
  /** The server started on it (unless `server: false`). */
  readonly server: TestServer;
  /** The tenant made on it (when `tenant` names one). */
  readonly tenant: Tenant;
  /** Things the file started (receivers, proxies): closed first, last registered first. */
  readonly closers: Array<() => Promise<void>>;
  /** Starts another server on the file's database, with these options over the file's; closed with the file's. */
  readonly startServer: (overrides?: Partial<TestServerConfig>) => Promise<TestServer>;
}

export interface UseTestServerOptions extends Partial<TestServerConfig> {
  /** Start a server with the other options in `beforeAll`. Default true; false when the tests start theirs with `startServer`. */
  readonly server?: boolean;
  /** Make a tenant of this name (organization, access key, workspace) on the server. Default: none. */
  readonly tenant?: string;
}

/**
 * A test file's set-up and tear-down, registered as vitest's `beforeAll`/`afterAll`: its own database, the app
 * on a real socket (with a delivery worker when `worker` is given), optionally a tenant; afterwards everything
 * registered is closed, then the servers, and the database is dropped. `ready` runs at the end of the set-up, for
 * files that keep `server` and `tenant` in variables of their own or make more of their own fixtures.
 */
export function useTestServer(options: UseTestServerOptions = {}, ready?: (file: TestServerFile) => void | Promise<void>): TestServerFile {
  const { server: startsServer = true, tenant: tenantName, ...overrides } = options;
  let database: { readonly url: string; readonly drop: () => Promise<void> } | undefined;
  let server: TestServer | undefined;
  let tenant: Tenant | undefined;
  const servers: TestServer[] = [];
  const closers: Array<() => Promise<void>> = [];
  const set = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useTestServer: no ${what} (read before beforeAll ran, or not asked for)`);
    return value;
  };
  const file: TestServerFile = {
    get databaseUrl() {
      return set(database, "database").url;
    },
    get server() {
      return set(server, "server");
    },
    get tenant() {
      return set(tenant, "tenant");
    },
    closers,
    startServer: async (more = {}) => {
      const started = await startTestServer(set(database, "database").url, { ...overrides, ...more });
      servers.push(started);
      return started;
    },
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    if (startsServer) server = await file.startServer();
    if (tenantName !== undefined) tenant = await createTenant(file.server.db, file.server.secretBox, tenantName);
    await ready?.(file);
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    for (const started of servers.reverse()) await started.close();
    await database?.drop();
  });

  return file;
}
