import { Agent, createServer, get, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { closeServer } from "./closeServer.js";

/** A server whose every request waits until the test releases it; it keeps idle connections for a minute. */
async function startServer(): Promise<{ server: Server; port: number; arrived: Promise<void>; release: () => void }> {
  let arrive = () => {};
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = createServer((_req, res) => {
    arrive();
    void released.then(() => res.end("done"));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, arrived, release };
}

const agents: Agent[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.destroy();
});

function request(port: number): Promise<{ status: number | undefined; body: string }> {
  const agent = new Agent({ keepAlive: true });
  agents.push(agent);
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, agent }, (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode, body }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

describe("closeServer", () => {
  it("when a request is in flight on a keep-alive connection, then it completes and the server closes right after", async () => {
    const { server, port, arrived, release } = await startServer();
    const answer = request(port);
    await arrived;
    let closed = false;
    const closing = closeServer(server, 30_000).then(() => {
      closed = true;
    });
    // Long enough for a couple of idle sweeps (every 50 ms): they must leave the busy connection alone.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(closed).toBe(false);

    const released = performance.now();
    release();
    expect(await answer).toEqual({ status: 200, body: "done" });
    await closing;
    // Far below the one-minute keep-alive timeout the connection would otherwise be held for.
    expect(performance.now() - released).toBeLessThan(2000);
  });

  it("when only idle keep-alive connections remain, then the server closes at once", async () => {
    const { server, port, release } = await startServer();
    release();
    expect((await request(port)).status).toBe(200);
    const started = performance.now();
    await closeServer(server, 30_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("when a request outlasts the grace period, then its connection is cut and the server closes", async () => {
    const { server, port, arrived } = await startServer();
    const answer = request(port);
    await arrived;
    let expired = false;
    await closeServer(server, 200, () => {
      expired = true;
    });
    expect(expired).toBe(true);
    await expect(answer).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});
