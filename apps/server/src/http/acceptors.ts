import { spawn } from "node:child_process";
import type { Server as HttpServer } from "node:http";
import type { Server as NetServer, Socket } from "node:net";

/**
 * The child that hands the listening socket back: it receives the server's handle over IPC and sends it back
 * `copies` times. Each copy arrives as a new file descriptor of the same listening socket (SCM_RIGHTS), as
 * the cluster module shares one socket between processes.
 */
const copier = `
process.once("message", (message, handle) => {
  let left = message.copies;
  for (let i = 0; i < message.copies; i += 1) {
    process.send("switchyard:acceptor", handle, () => { left -= 1; if (left === 0) process.disconnect(); });
  }
});
`;

export interface Acceptors {
  /** Handles added (0 when the copies could not be had: the server then accepts on its own handle only). */
  readonly count: number;
  /** Stops accepting on the added handles; `closeServer` calls it before closing the server's own. */
  readonly close: () => void;
}

/**
 * Gives a listening HTTP server `count` more accept handles on its socket. libuv (≥ 1.45, Node 20) accepts
 * one connection per handle per event-loop turn, and a saturated server's turns last tens of ms, so with one
 * handle a burst of new connections waits seconds in the kernel's accept queue before anything answers it,
 * even a 503 (docs/reliability.md, scenario 5). With `count` more handles each turn accepts up to
 * `count + 1`. The connections they accept are handed to `server` (its `connection` event), which serves
 * them like its own: timeouts, keep-alive, `closeIdleConnections`. If the copies cannot be had (a failing
 * child, a timeout), none are added and the server accepts as before.
 */
export async function addAcceptors(server: HttpServer, count: number, timeoutMs = 5000): Promise<Acceptors> {
  if (count <= 0 || !server.listening) return { count: 0, close: () => {} };
  const received: NetServer[] = [];
  const child = spawn(process.execPath, ["-e", copier], { stdio: ["ignore", "ignore", "inherit", "ipc"], env: {} });
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    const onMessage = (message: unknown, handle: unknown) => {
      if (message !== "switchyard:acceptor" || handle === undefined) return;
      received.push(handle as NetServer);
      if (received.length === count) done();
    };
    child.on("message", onMessage);
    child.once("exit", done);
    child.once("error", done);
    child.send({ copies: count }, server);
  });
  child.kill();
  const close = () => {
    for (const acceptor of received.splice(0)) acceptor.close();
  };
  if (!server.listening) {
    close();
    return { count: 0, close };
  }
  for (const acceptor of received) {
    acceptor.on("connection", (socket: Socket) => {
      // As the HTTP server does for the connections it accepts itself (its `noDelay` default).
      socket.setNoDelay(true);
      server.emit("connection", socket);
    });
    // An accept that fails (EMFILE, say) is the server's own handle's business too; this one just stops.
    acceptor.on("error", () => acceptor.close());
  }
  return { count: received.length, close };
}
