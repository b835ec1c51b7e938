import { BlockList, isIP, isIPv4, isIPv6 } from "node:net";

/**
 * Whether one IP address may be contacted, and if not, which special-purpose range it falls in; for a
 * NAT64 or 6to4 address, the range of the IPv4 address it carries (`embeddedIpv4`).
 */
export type AddressVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly range: string; readonly embeddedIpv4?: string };

/**
 * Which destination addresses Switchyard may connect to, the guard against requests forged towards internal
 * services (SSRF): every address outside the special-purpose ranges below is allowed; an address inside one
 * (loopback, private, link-local and cloud metadata, CGNAT, multicast, unique-local, ...) is refused at
 * connect time, after DNS resolution, unless the operator's allow-list names it (by CIDR), or names the
 * hostname it was resolved from.
 */
export interface AddressPolicy {
  /** The allow-list entries as understood (CIDRs as `address/prefix`, hostnames lower-case, `:port` kept): safe to log. */
  readonly allowList: readonly string[];
  /**
   * The verdict for one IP address (IPv4, IPv6, or IPv6 with an embedded IPv4 address) and the port to be
   * connected to. Without a port, only entries that name no port can allow it, and `never` is not asked.
   */
  checkAddress(address: string, port?: number): AddressVerdict;
  /** Whether the allow-list names this exact hostname (for this port); every address it resolves to is then allowed, but `never`'s. */
  allowsHostname(hostname: string, port?: number): boolean;
  /** Whether this endpoint is one no destination may reach, allowed or not (`never`). */
  neverReachable(address: string, port: number): boolean;
}

/** The verdict for an endpoint that is Switchyard's own. */
export const ownEndpointVerdict: AddressVerdict = Object.freeze({ allowed: false, range: "Switchyard's own server and database" });

/**
 * Endpoints no destination may reach, allowed or not: Switchyard's own server and its database
 * (`ownEndpoints`). Asked at every check that knows its port.
 */
export type NeverReachable = (address: string, port: number) => boolean;

/** An allow-list entry that is neither a CIDR, an IP address nor a hostname. */
export class InvalidAllowListError extends Error {
  override readonly name = "InvalidAllowListError";
  readonly code = "INVALID_ALLOW_LIST";

  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`Invalid destination allow-list entry ${JSON.stringify(entry)}: ${reason}`);
  }
}

interface Range {
  readonly label: string;
  /** CIDRs, `address/prefix`. */
  readonly subnets: readonly string[];
}

/*
 * Order matters only for the label reported: the most specific range comes first (the cloud metadata
 * address before link-local, broadcast before "reserved"). IPv4-mapped IPv6 forms (::ffff:a.b.c.d) need
 * no entries of their own: BlockList matches them against the IPv4 subnets.
 */
const refusedRanges: readonly Range[] = [
  { label: "unspecified", subnets: ["0.0.0.0/8", "::/128"] },
  { label: "loopback", subnets: ["127.0.0.0/8", "::1/128"] },
  { label: "cloud metadata", subnets: ["169.254.169.254/32", "fd00:ec2::254/128"] },
  { label: "link-local", subnets: ["169.254.0.0/16", "fe80::/10"] },
  { label: "private", subnets: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] },
  { label: "carrier-grade NAT", subnets: ["100.64.0.0/10"] },
  { label: "broadcast", subnets: ["255.255.255.255/32"] },
  { label: "multicast", subnets: ["224.0.0.0/4", "ff00::/8"] },
  { label: "unique-local", subnets: ["fc00::/7"] },
  { label: "site-local", subnets: ["fec0::/10"] },
  { label: "documentation", subnets: ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"] },
  { label: "benchmarking", subnets: ["198.18.0.0/15", "2001:2::/48"] },
  { label: "IETF protocol assignments", subnets: ["192.0.0.0/24"] },
  { label: "reserved", subnets: ["240.0.0.0/4", "192.88.99.0/24", "100::/64"] },
  // Transition forms that can carry an internal IPv4 address: refused outright (the NAT64 and 6to4 ones are decoded instead).
  { label: "IPv4-compatible IPv6", subnets: ["::/96"] },
  { label: "IPv4-translated IPv6", subnets: ["::ffff:0:0:0/96"] },
  { label: "local-use NAT64", subnets: ["64:ff9b:1::/48"] },
  { label: "Teredo", subnets: ["2001::/32"] },
];

const refusedLists = refusedRanges.map(({ label, subnets }) => {
  const list = new BlockList();
  for (const subnet of subnets) {
    const [address = "", prefix] = subnet.split("/");
    list.addSubnet(address, Number(prefix), blockListFamily(address));
  }
  return { label, list };
});

/** What the allow-list names, per port (0: entries that name no port, so every port). */
type AllowedByPort = Map<number, { readonly subnets: BlockList; readonly hostnames: Set<string> }>;

/**
 * Builds the policy from an operator's comma-separated allow-list, such as the value of
 * `SWITCHYARD_DESTINATION_ALLOWLIST="127.0.0.1/32:8080,[::1]:8080,hooks.internal.example"`. Entries are
 * CIDRs, single IP addresses (a /32 or /128) or exact hostnames (no wildcards), each with an optional
 * `:port` (IPv6 addresses and CIDRs in brackets when they carry one: `[fd00::/8]:443`); an entry without a
 * port allows every port. Blanks are ignored, so `""` gives the strict default. `never` names endpoints
 * refused whatever the allow-list says. Throws `InvalidAllowListError` naming the first malformed entry.
 */
export function parseAddressPolicy(allowList: string, never: NeverReachable = () => false): AddressPolicy {
  const allowed: AllowedByPort = new Map();
  const understood: string[] = [];
  for (const raw of allowList.split(",")) {
    const written = raw.trim();
    if (written !== "") understood.push(addAllowListEntry(allowed, written));
  }
  return policyOver(Object.freeze(understood), allowed, never);
}

/**
 * Adds one allow-list entry (trimmed, not blank) to `allowed` and returns it as understood: CIDRs as
 * `address/prefix`, hostnames lower-case, `:port` kept. Throws `InvalidAllowListError` when it is malformed.
 */
function addAllowListEntry(allowed: AllowedByPort, written: string): string {
  const { entry, port } = splitPort(written);
  const { subnets, hostnames } = allowedOn(allowed, port);
  if (entry.includes("/")) {
    const { address, prefixText } = parseCidr(entry);
    subnets.addSubnet(address, Number(prefixText), blockListFamily(address));
    return subnetEntryText(`${address}/${prefixText}`, address, port);
  }
  const address = unbracket(entry);
  const family = isIP(address);
  if (family !== 0) {
    subnets.addAddress(address, blockListFamily(address));
    return subnetEntryText(`${address}/${family === 4 ? 32 : 128}`, address, port);
  }
  const hostname = normalizeHostname(entry);
  if (!isHostname(hostname)) throw new InvalidAllowListError(entry, "not a CIDR, an IP address or a hostname");
  hostnames.add(hostname);
  return `${hostname}${portSuffix(port)}`;
}

/** The entries that name `port` (0: every port), created empty the first time. */
function allowedOn(allowed: AllowedByPort, port: number) {
  let entries = allowed.get(port);
  if (entries === undefined) {
    entries = { subnets: new BlockList(), hostnames: new Set() };
    allowed.set(port, entries);
  }
  return entries;
}

/** An allow-list CIDR (`address/prefix`, the address maybe in brackets); throws `InvalidAllowListError` when malformed. */
function parseCidr(entry: string): { readonly address: string; readonly prefixText: string } {
  const slash = entry.indexOf("/");
  const address = unbracket(entry.slice(0, slash));
  const prefixText = entry.slice(slash + 1);
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  if (family === 0) throw new InvalidAllowListError(entry, "the part before / is not an IP address");
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new InvalidAllowListError(entry, `the prefix length must be a whole number from 0 to ${max}`);
  }
  return { address, prefixText };
}

/** How an address or CIDR entry reads back: an IPv6 one that names a port goes in brackets, as it must be written. */
function subnetEntryText(cidr: string, address: string, port: number): string {
  return isIPv6(address) && port !== 0 ? `[${cidr}]${portSuffix(port)}` : `${cidr}${portSuffix(port)}`;
}

function portSuffix(port: number): string {
  return port === 0 ? "" : `:${port}`;
}

/** The policy over a parsed allow-list: what `parseAddressPolicy` returns. */
function policyOver(allowList: readonly string[], allowed: AllowedByPort, never: NeverReachable): AddressPolicy {
  /** The entries that can allow an endpoint on `port`: those for every port, and those naming it. */
  const entriesFor = (port: number | undefined) => [allowed.get(0), port === undefined ? undefined : allowed.get(port)];
  return Object.freeze({
    allowList,
    checkAddress(input: string, port?: number): AddressVerdict {
      const address = withoutZone(input);
      if (isIP(address) === 0) return { allowed: false, range: "not an IP address" };
      if (port !== undefined && never(address, port)) return ownEndpointVerdict;
      const embedded = embeddedIpv4(address);
      const named = entriesFor(port).some(
        (entries) =>
          entries !== undefined && (check(entries.subnets, address) || (embedded !== undefined && check(entries.subnets, embedded))),
      );
      return named ? { allowed: true } : rangeVerdict(address, embedded);
    },
    allowsHostname(hostname: string, port?: number): boolean {
      const name = normalizeHostname(hostname);
      return entriesFor(port).some((entries) => entries?.hostnames.has(name) === true);
    },
    neverReachable(address: string, port: number): boolean {
      return never(withoutZone(address), port);
    },
  });
}

/**
 * The verdict for an address the allow-list does not name: refused when it, or the IPv4 address it
 * carries (`embedded`, for NAT64 and 6to4), falls in a special-purpose range; allowed otherwise.
 */
function rangeVerdict(address: string, embedded: string | undefined): AddressVerdict {
  const range = refusedRange(address);
  if (range !== undefined) return { allowed: false, range };
  const embeddedRange = embedded === undefined ? undefined : refusedRange(embedded);
  if (embeddedRange !== undefined) return { allowed: false, range: embeddedRange, embeddedIpv4: embedded };
  return { allowed: true };
}

/**
 * The verdict for connecting to `address`, reached through `hostname` (the same text for an IP literal),
 * on `port`: an allowed hostname allows every address it resolves to, but never Switchyard's own endpoints;
 * otherwise the address itself is judged.
 */
export function connectVerdict(policy: AddressPolicy, hostname: string, address: string, port: number): AddressVerdict {
  if (!policy.allowsHostname(hostname, port)) return policy.checkAddress(address, port);
  return policy.neverReachable(address, port) ? ownEndpointVerdict : { allowed: true };
}

/**
 * An allow-list entry's `:port`, if it names one (0 when not): `host:port`, `a.b.c.d:port`, `a.b.c.d/n:port`,
 * `[v6]:port`, `[v6/n]:port`. A bare IPv6 address or CIDR (colons, no brackets) names no port.
 */
function splitPort(written: string): { entry: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(written);
  if (bracketed !== null) return { entry: bracketed[1] ?? "", port: portOf(written, bracketed[2]) };
  const colons = written.split(":").length - 1;
  if (colons !== 1) return { entry: written, port: 0 };
  const [entry = "", port] = written.split(":");
  return { entry, port: portOf(written, port) };
}

function portOf(written: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (port < 1 || port > 65535) throw new InvalidAllowListError(written, "the port must be a whole number from 1 to 65535");
  return port;
}

/** Why an address is refused, for messages: "in the loopback range" or "it carries 127.0.0.1, in the loopback range". */
export function describeRefusal(verdict: Extract<AddressVerdict, { allowed: false }>): string {
  const carries = verdict.embeddedIpv4 === undefined ? "" : `it carries ${verdict.embeddedIpv4}, `;
  return `${carries}in the ${verdict.range} range`;
}

/** Host names compare case-insensitively and without the root's trailing dot; IPv6 URL hosts lose their brackets. */
export function normalizeHostname(hostname: string): string {
  return unbracket(hostname).toLowerCase().replace(/\.$/, "");
}

function refusedRange(address: string): string | undefined {
  return refusedLists.find(({ list }) => check(list, address))?.label;
}

function check(list: BlockList, address: string): boolean {
  return list.check(address, blockListFamily(address));
}

function blockListFamily(address: string): "ipv4" | "ipv6" {
  return isIPv4(address) ? "ipv4" : "ipv6";
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function withoutZone(address: string): string {
  const percent = address.indexOf("%");
  return percent === -1 ? address : address.slice(0, percent);
}

function isHostname(name: string): boolean {
  return name.length <= 253 && name.split(".").every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
}

/**
 * The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address carries: a gateway would forward
 * to it, so it is judged like that IPv4 address. IPv4-mapped forms are left to BlockList, which handles them.
 */
function embeddedIpv4(address: string): string | undefined {
  if (!address.includes(":")) return undefined;
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  const isNat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (isNat64) return dottedQuad(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x2002) return dottedQuad(groups[1] ?? 0, groups[2] ?? 0);
  return undefined;
}

function dottedQuad(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** The eight 16-bit groups of a valid IPv6 address (checked with `isIP` first). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const octets = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${(((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16)}:${(((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const zeros = 8 - left.length - right.length;
  if (zeros < 0 || (rest === undefined && zeros !== 0)) return undefined;
  return [...left, ...new Array<number>(zeros).fill(0), ...right];
}
