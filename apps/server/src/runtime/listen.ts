import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { Config } from "../config.js";
import { type Acceptors, addAcceptors } from "../http/acceptors.js";
import { createHttpServer } from "../http/hardenServer.js";

export interface Listening {
  readonly server: Server;
  /** The accept handles added beside the socket's own (`addAcceptors`). */
  readonly acceptors: Acceptors;
  /** The port bound (the configured one, or the one picked for port 0). */
  readonly port: number;
}

/** Serves `app` on the configured host and port, with the extra accept handles; resolves once it listens. */
export async function listen(app: Express, config: Config): Promise<Listening> {
  const server = createHttpServer(app, { requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: config.keepAliveTimeoutMs });
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const acceptors = await addAcceptors(server, config.acceptHandles - 1);
  const { port } = server.address() as AddressInfo;
  return { server, acceptors, port };
}
