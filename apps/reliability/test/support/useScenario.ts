import { createClient, createConfig } from "@switchyard/client";
import { createWebhookRoute, freePort, type Tenant } from "@switchyard/testing";
import { afterAll, beforeAll } from "vitest";
import { type Deployment, type Env, type ServerProcess, startDeployment } from "./deployment.js";
import type { ManagedProcess } from "./processes.js";
import { type Answer, type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from "./receiver.js";

export interface ScenarioOptions {
  /** The server process's environment over the deployment's. */
  readonly serverEnv?: Env;
  /** Listen on a port chosen once, so that a restarted server is where the clients keep sending. Default: any free port. */
  readonly fixedPort?: boolean;
  /** Start a standalone worker with this environment. Default: none. */
  readonly workerEnv?: Env;
  /** The tenant's name (its organization and workspace), made with the server's CLI. */
  readonly tenant: string;
  /** Start a receiver answering each webhook as this says. Default: none. */
  readonly receiver?: (webhook: ReceivedWebhook) => Answer;
  /** Route events of this name to the receiver, or with no receiver to `url`. Default: no route. */
  readonly route?: { readonly event: string; readonly url?: string };
}

/** What `useScenario` started; readable from its `beforeAll` on. */
export interface Scenario {
  readonly deployment: Deployment;
  readonly server: ServerProcess;
  /** The server's port (fixed across restarts with `fixedPort`). */
  readonly port: number;
  readonly worker: ManagedProcess;
  readonly tenant: Tenant;
  readonly receiver: WebhookReceiver;
}

/**
 * A scenario file's start-up and tear-down, registered as vitest's `beforeAll`/`afterAll`: its deployment (an
 * own PostgreSQL in a temp folder), the server, optionally a standalone worker, the tenant, a receiver and a
 * route to it; afterwards the receiver is closed and the deployment with every process it started.
 */
export function useScenario(name: string, options: ScenarioOptions): Scenario {
  let deployment: Deployment | undefined;
  let server: ServerProcess | undefined;
  let worker: ManagedProcess | undefined;
  let tenant: Tenant | undefined;
  let receiver: WebhookReceiver | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useScenario: no ${what} (read before beforeAll ran, or not asked for)`);
    return value;
  };
  const scenario: Scenario = {
    get deployment() {
      return started(deployment, "deployment");
    },
    get server() {
      return started(server, "server");
    },
    get port() {
      return started(server, "server").port;
    },
    get worker() {
      return started(worker, "worker");
    },
    get tenant() {
      return started(tenant, "tenant");
    },
    get receiver() {
      return started(receiver, "receiver");
    },
  };

  beforeAll(async () => {
    deployment = await startDeployment(name);
    const port = options.fixedPort === true ? await freePort() : 0;
    server = await deployment.startServer({ port, ...(options.serverEnv === undefined ? {} : { env: options.serverEnv }) });
    if (options.workerEnv !== undefined) worker = await deployment.startWorker(options.workerEnv);
    tenant = await deployment.createTenant(options.tenant);
    if (options.receiver !== undefined) receiver = await startWebhookReceiver(options.receiver);
    if (options.route !== undefined) {
      const client = createClient(createConfig({ baseUrl: server.baseUrl }));
      await createWebhookRoute(client, tenant, options.route.event, options.route.url ?? started(receiver, "receiver").url);
    }
  });

  afterAll(async () => {
    await receiver?.close();
    await deployment?.close();
  });

  return scenario;
}
