import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of a real server that, for the first `drops` connections, forwards the
 * request but cuts the client off as soon as the server starts answering: the request was processed and
 * committed, the client saw a network error. Used to prove that retries cannot store an event twice.
 */
export async function startResponseDroppingProxy(
  target: URL,
  drops: number,
  listenPort = 0,
): Promise<{ url: string; dropped: () => number; close: () => Promise<void> }> {
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = dropped < drops;
    if (drop) dropped += 1;
    client.pipe(upstream);
    upstream.on("data", (chunk) => {
      if (drop) {
        client.destroy();
        upstream.destroy();
      } else {
        client.write(chunk);
      }
    });
    upstream.on("end", () => client.end());
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", forget);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    dropped: () => dropped,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
