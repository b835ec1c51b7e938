import { spawn } from "node:child_process";
import { createServer, get, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type Acceptors, addAcceptors } from "./acceptors.js";

const servers: Array<{ server: Server; acceptors: Acceptors }> = [];
afterEach(async () => {
  for (const { server, acceptors } of servers.splice(0)) {
    acceptors.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(extraHandles: number): Promise<{ server: Server; port: number; acceptors: Acceptors }> {
  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const acceptors = await addAcceptors(server, extraHandles);
  servers.push({ server, acceptors });
  return { server, port: (server.address() as AddressInfo).port, acceptors };
}

/**
 * Another process opens `count` connections while this one's event loop is blocked; then counts how many of
 * them the first turn after the block accepted (the `connection` events before that turn's check phase).
 */
async function acceptedInOneTurn(server: Server, port: number, count: number): Promise<number> {
  const opener = spawn(
    process.execPath,
    [
      "-e",
      `process.stdout.write("ready\\n");
       process.stdin.once("data", () => {
         const sockets = Array.from({ length: ${count} }, () => require("node:net").connect(${port}, "127.0.0.1"));
         let open = 0;
         for (const s of sockets) s.once("connect", () => { if (++open === ${count}) process.stdout.write("connected " + Date.now() + "\\n"); });
         setTimeout(() => process.exit(0), 5000);
       });`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let output = "";
  opener.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    while (!output.includes("ready")) await new Promise((resolve) => setTimeout(resolve, 10));
    let accepted = 0;
    server.on("connection", () => {
      accepted += 1;
    });
    opener.stdin.write("go\n");
    // Blocked long enough for the other process to connect every socket (it says when it did).
    const blockedUntil = Date.now() + 1500;
    while (Date.now() < blockedUntil) {}
    const inFirstTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(accepted)));
    while (!output.includes("connected")) await new Promise((resolve) => setTimeout(resolve, 10));
    const connectedAt = Number(/connected (\d+)/.exec(output)?.[1]);
    expect(connectedAt, "every connection was opened while the loop was blocked").toBeLessThan(blockedUntil);
    return inFirstTurn;
  } finally {
    opener.kill();
  }
}

describe("addAcceptors", () => {
  it("when connections queue up while the event loop is busy, then one turn accepts one per handle instead of one", async () => {
    const single = await listen(0);
    expect(single.acceptors.count).toBe(0);
    expect(await acceptedInOneTurn(single.server, single.port, 8)).toBe(1);

    const four = await listen(3);
    expect(four.acceptors.count).toBe(3);
    expect(await acceptedInOneTurn(four.server, four.port, 8)).toBe(4);
  });

  it("when connections arrive on the added handles, then the server serves them, and once closed the port refuses", async () => {
    const { server, port, acceptors } = await listen(3);
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<string>((resolve, reject) => {
            get({ host: "127.0.0.1", port, agent: false }, (res) => {
              let body = "";
              res.on("data", (chunk: Buffer) => {
                body += chunk.toString();
              });
              res.on("end", () => resolve(`${res.statusCode} ${body}`));
            }).on("error", reject);
          }),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, () => "200 ok"));

    acceptors.close();
    await new Promise((resolve) => server.close(resolve));
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("when the server is not listening, then no handle is added", async () => {
    const server = createServer();
    const acceptors = await addAcceptors(server, 4);
    expect(acceptors.count).toBe(0);
  });
});
