import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { type AddressPolicy, type AddressVerdict, connectVerdict, describeRefusal } from "./addressPolicy.js";
import type { HostLookup, ResolvedAddress } from "./deliveryContext.js";

/** A connection the address policy forbids; the attempt reports it as failure `refused_address`. */
export class RefusedAddressError extends Error {
  override readonly name = "RefusedAddressError";
  readonly code = "REFUSED_ADDRESS";

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly verdict: Extract<AddressVerdict, { allowed: false }>,
  ) {
    const via = hostname === address ? "" : ` (resolved from ${hostname})`;
    super(`refused to connect to ${address}${via}: ${describeRefusal(verdict)}, which the destination allow-list does not name`);
  }
}

/**
 * A `lookup` for `http.request` that resolves with `resolve` and refuses the connection when any
 * address is outside the policy. Node calls it just before connecting, so what is checked is exactly
 * what is connected to: a DNS answer that changes after the config was accepted (rebinding) gains nothing.
 * One forbidden address refuses the whole attempt, rather than quietly trying the others. `port` is the
 * one the request connects to (allow-list entries may name ports; Switchyard's own endpoints are never allowed).
 * Node never calls it for IP-literal hosts: those are checked before the request is made.
 */
export function guardedLookup(resolve: HostLookup, policy: AddressPolicy, port: number): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (answers) => {
        const wanted = options.family === 4 || options.family === 6 ? answers.filter((a) => a.family === options.family) : answers;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} did not resolve to any address`), { code: "ENOTFOUND" }), "");
          return;
        }
        const refused = firstRefused(policy, hostname, wanted, port);
        if (refused !== undefined) {
          callback(refused, "");
          return;
        }
        const addresses: LookupAddress[] = wanted.map(({ address, family }) => ({ address, family }));
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? "", addresses[0]?.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), ""),
    );
  };
}

/** The refusal of the first address `hostname` resolved to that the policy forbids on `port`, if any. */
function firstRefused(
  policy: AddressPolicy,
  hostname: string,
  resolved: readonly ResolvedAddress[],
  port: number,
): RefusedAddressError | undefined {
  for (const { address } of resolved) {
    const verdict = connectVerdict(policy, hostname, address, port);
    if (!verdict.allowed) return new RefusedAddressError(hostname, address, verdict);
  }
  return undefined;
}
