import { describe, expect, it } from "vitest";
import { InvalidAllowListError, parseAddressPolicy } from "./addressPolicy.js";

describe("parseAddressPolicy", () => {
  const strict = parseAddressPolicy("");

  it.each([
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "cloud metadata"],
    ["fd00:ec2::254", "cloud metadata"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fec0::1", "site-local"],
    ["192.0.2.1", "documentation"],
    ["2001:db8::1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:169.254.169.254", "cloud metadata"],
    ["::ffff:100.64.0.1", "carrier-grade NAT"],
    ["::127.0.0.1", "IPv4-compatible IPv6"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
    ["not-an-address", "not an IP address"],
  ])("when the allow-list is empty and the address is %s, then it is refused as %s", (address, range) => {
    expect(strict.checkAddress(address)).toEqual({ allowed: false, range });
  });

  it.each([
    ["64:ff9b::7f00:1", "loopback", "127.0.0.1"],
    ["64:ff9b::169.254.169.254", "cloud metadata", "169.254.169.254"],
    ["2002:0a00:0001::1", "private", "10.0.0.1"],
  ])("when the NAT64 or 6to4 address %s carries an internal IPv4 address, then it is refused as %s", (address, range, embeddedIpv4) => {
    expect(strict.checkAddress(address)).toEqual({ allowed: false, range, embeddedIpv4 });
  });

  it.each([
    "8.8.8.8",
    "93.184.216.34",
    "100.63.255.255",
    "100.128.0.0",
    "172.32.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("when the address %s is public, then it is allowed", (address) => {
    expect(strict.checkAddress(address)).toEqual({ allowed: true });
  });

  it("when CIDRs and addresses are allowed, then exactly the addresses inside them are, in every form", () => {
    const policy = parseAddressPolicy(" 127.0.0.1/32 , 10.1.0.0/16,fd00::/8, ::1 ,");
    expect(policy.allowList).toEqual(["127.0.0.1/32", "10.1.0.0/16", "fd00::/8", "::1/128"]);
    expect(policy.checkAddress("127.0.0.1")).toEqual({ allowed: true });
    expect(policy.checkAddress("::ffff:127.0.0.1")).toEqual({ allowed: true });
    expect(policy.checkAddress("127.0.0.2")).toEqual({ allowed: false, range: "loopback" });
    expect(policy.checkAddress("10.1.200.3")).toEqual({ allowed: true });
    expect(policy.checkAddress("10.2.0.1")).toEqual({ allowed: false, range: "private" });
    expect(policy.checkAddress("fd00:ec2::254")).toEqual({ allowed: true });
    expect(policy.checkAddress("fc00::1")).toEqual({ allowed: false, range: "unique-local" });
    expect(policy.checkAddress("::1")).toEqual({ allowed: true });
  });

  it("when a hostname is allowed, then it matches case-insensitively and with a trailing dot, and nothing else does", () => {
    const policy = parseAddressPolicy("Hooks.Internal.Example");
    expect(policy.allowList).toEqual(["hooks.internal.example"]);
    expect(policy.allowsHostname("hooks.internal.example")).toBe(true);
    expect(policy.allowsHostname("HOOKS.internal.example.")).toBe(true);
    expect(policy.allowsHostname("evil.hooks.internal.example")).toBe(false);
    expect(policy.checkAddress("127.0.0.1")).toEqual({ allowed: false, range: "loopback" });
  });

  it.each([
    ["10.0.0.0/33", "10.0.0.0/33"],
    ["::1/129", "::1/129"],
    ["300.1.1.1/8", "300.1.1.1/8"],
    ["10.0.0.0/x", "10.0.0.0/x"],
    ["10.0.0.0/", "10.0.0.0/"],
    ["127.0.0.1/32,not a host!", "not a host!"],
    ["http://example.com", "http://example.com"],
    ["127.0.0.1:0", "127.0.0.1:0"],
    ["127.0.0.1:65536", "127.0.0.1:65536"],
    ["[::1]:x", "[::1]:x"],
  ])("when the allow-list is %j, then it is refused naming %j", (allowList, entry) => {
    let thrown: unknown;
    try {
      parseAddressPolicy(allowList);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidAllowListError);
    expect((thrown as InvalidAllowListError).entry).toBe(entry);
  });

  it("when entries name ports, then each allows its addresses on that port only, and entries without a port allow every port", () => {
    const policy = parseAddressPolicy("127.0.0.1:8080, 10.1.0.0/16:443, [::1]:9000, [fd00::/8]:8443, hooks.internal:8443, 192.168.1.1");
    expect(policy.allowList).toEqual([
      "127.0.0.1/32:8080",
      "10.1.0.0/16:443",
      "[::1/128]:9000",
      "[fd00::/8]:8443",
      "hooks.internal:8443",
      "192.168.1.1/32",
    ]);
    expect(policy.checkAddress("127.0.0.1", 8080)).toEqual({ allowed: true });
    expect(policy.checkAddress("127.0.0.1", 5432)).toEqual({ allowed: false, range: "loopback" });
    // Without a port, only an entry that names none can allow.
    expect(policy.checkAddress("127.0.0.1")).toEqual({ allowed: false, range: "loopback" });
    expect(policy.checkAddress("10.1.2.3", 443)).toEqual({ allowed: true });
    expect(policy.checkAddress("10.1.2.3", 80)).toEqual({ allowed: false, range: "private" });
    expect(policy.checkAddress("::1", 9000)).toEqual({ allowed: true });
    expect(policy.checkAddress("::1", 9001)).toEqual({ allowed: false, range: "loopback" });
    expect(policy.checkAddress("fd12::1", 8443)).toEqual({ allowed: true });
    expect(policy.allowsHostname("hooks.internal", 8443)).toBe(true);
    expect(policy.allowsHostname("hooks.internal", 443)).toBe(false);
    expect(policy.checkAddress("192.168.1.1", 22)).toEqual({ allowed: true });
  });

  it("when an endpoint is Switchyard's own, then it is refused on that port whatever the allow-list says", () => {
    const policy = parseAddressPolicy(
      "127.0.0.0/8, own.example",
      (address, port) => address.startsWith("127.") && (port === 3000 || port === 54329),
    );
    expect(policy.checkAddress("127.0.0.1", 3000)).toEqual({ allowed: false, range: "Switchyard's own server and database" });
    expect(policy.checkAddress("127.0.0.5", 54329)).toEqual({ allowed: false, range: "Switchyard's own server and database" });
    expect(policy.checkAddress("127.0.0.1", 8080)).toEqual({ allowed: true });
    expect(policy.neverReachable("127.0.0.1", 3000)).toBe(true);
    expect(policy.neverReachable("127.0.0.1", 8080)).toBe(false);
    // The hostname is allowed, but its addresses are still judged against Switchyard's own endpoints (guardedLookup).
    expect(policy.allowsHostname("own.example", 3000)).toBe(true);
  });
});
