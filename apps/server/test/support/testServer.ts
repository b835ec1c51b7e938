import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, createClient, createConfig } from "@switchyard/client";
import { defaultIngestLimits } from "@switchyard/event-intake";
import { createApp } from "../../src/app.js";
import { createSecretBox, type SecretBox } from "../../src/auth/secretBox.js";
import type { Config } from "../../src/config.js";
import { type Db, openDatabase } from "../../src/db/database.js";
import { silentLogger } from "../../src/logger.js";
import { loadSpec } from "../../src/spec/openApiSpec.js";

export interface TestServer {
  readonly baseUrl: string;
  readonly db: Db;
  readonly secretBox: SecretBox;
  /** A generated-SDK client bound to this server (no credentials). */
  readonly client: Client;
  readonly close: () => Promise<void>;
}

export type TestServerConfig = Pick<Config, "maxBodyBytes" | "limits" | "jwtClockSkewSeconds" | "dbTimeoutMs">;

export const testConfig: TestServerConfig = {
  maxBodyBytes: 1024 * 1024,
  limits: defaultIngestLimits,
  jwtClockSkewSeconds: 5,
  dbTimeoutMs: 5000,
};

/** The real app on a real socket (port 0), validating responses against the spec as well as requests. */
export async function startTestServer(databaseUrl: string, overrides: Partial<TestServerConfig> = {}): Promise<TestServer> {
  const config = { ...testConfig, ...overrides };
  const database = openDatabase({ connectionString: databaseUrl, timeoutMs: config.dbTimeoutMs, poolSize: 5, onIdleError: () => {} });
  const secretBox = createSecretBox(randomBytes(32));
  const app = createApp({ db: database.db, spec: await loadSpec(), secretBox, config, log: silentLogger, validateResponses: true });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    db: database.db,
    secretBox,
    client: createClient(createConfig({ baseUrl })),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}
