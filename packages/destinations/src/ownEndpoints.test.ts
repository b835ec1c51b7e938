import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { createOwnEndpoints, databaseEndpoint } from "./ownEndpoints.js";

describe("createOwnEndpoints", () => {
  it("when a host of this machine is added, then every address of this machine is its own on that port, and only on that port", async () => {
    const own = createOwnEndpoints();
    await own.add("127.0.0.1", 54329);
    await own.add("0.0.0.0", 3000);
    const interfaceAddresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
    for (const address of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::", ...interfaceAddresses]) {
      expect(own.neverReachable(address, 54329), address).toBe(true);
      expect(own.neverReachable(address, 3000), address).toBe(true);
      expect(own.neverReachable(address, 8080), address).toBe(false);
    }
    expect(own.neverReachable("93.184.216.34", 3000)).toBe(false);
  });

  it("when another machine's address or a socket path is added, then only that address is its own, and a path adds nothing", async () => {
    const own = createOwnEndpoints();
    await own.add("10.9.8.7", 5432);
    await own.add("/var/run/postgresql", 5432);
    await own.add("localhost", 6543);
    expect(own.neverReachable("10.9.8.7", 5432)).toBe(true);
    expect(own.neverReachable("10.9.8.6", 5432)).toBe(false);
    expect(own.neverReachable("127.0.0.1", 5432)).toBe(false);
    expect(own.neverReachable("127.0.0.1", 6543)).toBe(true);
  });
});

describe("databaseEndpoint", () => {
  it.each([
    ["postgres://postgres@127.0.0.1:5432/test", { host: "127.0.0.1", port: 5432 }],
    ["postgresql://u:p@db.internal/app", { host: "db.internal", port: 5432 }],
    ["postgres://u@[::1]:6000/app", { host: "[::1]", port: 6000 }],
    ["postgres:///app?host=/var/run/postgresql", { host: "/var/run/postgresql", port: 5432 }],
  ])("when the URL is %s, then the endpoint is %j", (url, endpoint) => {
    expect(databaseEndpoint(url)).toEqual(endpoint);
  });
});
