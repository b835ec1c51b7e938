import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { NeverReachable } from "./addressPolicy.js";

/** Switchyard's own endpoints (its server, its database), which no destination may reach, allowed or not. */
export interface OwnEndpoints {
  /**
   * Adds `host:port`. A host that is this machine (loopback, unspecified, one of its interfaces' addresses,
   * `localhost`) stands for every address of this machine; another name is resolved now, each address it
   * has counted; a path (a Unix socket) or a name that does not resolve adds nothing.
   */
  add(host: string, port: number): Promise<void>;
  readonly neverReachable: NeverReachable;
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Whether `address` is this machine: loopback, unspecified, or an address of one of its interfaces. */
function isThisMachine(address: string): boolean {
  if (address === "0.0.0.0" || address === "::") return true;
  if (loopback.check(address, isIP(address) === 4 ? "ipv4" : "ipv6")) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isThisMachine(mapped)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address) === true);
}

export function createOwnEndpoints(): OwnEndpoints {
  const local = new Set<number>();
  const remote = new Map<number, Set<string>>();
  return {
    async add(host, port) {
      const name = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
      if (name === "" || name.startsWith("/") || !Number.isInteger(port) || port <= 0) return;
      const addresses =
        isIP(name) !== 0
          ? [name]
          : name === "localhost"
            ? ["127.0.0.1"]
            : await lookup(name, { all: true }).then(
                (a) => a.map((x) => x.address),
                () => [],
              );
      for (const address of addresses) {
        if (isThisMachine(address)) local.add(port);
        else remote.set(port, (remote.get(port) ?? new Set()).add(address));
      }
    },
    neverReachable: (address, port) => (local.has(port) && isThisMachine(address)) || remote.get(port)?.has(address) === true,
  };
}

/** Own endpoints, starting with the database at `databaseUrl`; the server adds its own port once it listens. */
export async function ownEndpointsWithDatabase(databaseUrl: string): Promise<OwnEndpoints> {
  const own = createOwnEndpoints();
  const database = databaseEndpoint(databaseUrl);
  if (database !== undefined) await own.add(database.host, database.port);
  return own;
}

/** `host` and `port` of a PostgreSQL connection string (`postgres://user@host:port/db`), defaults as libpq's. */
export function databaseEndpoint(connectionString: string): { host: string; port: number } | undefined {
  try {
    const url = new URL(connectionString);
    const host = url.searchParams.get("host") ?? decodeURIComponent(url.hostname);
    const port = Number(url.searchParams.get("port") ?? (url.port === "" ? 5432 : url.port));
    return { host: host === "" ? "localhost" : host, port };
  } catch {
    return undefined;
  }
}
