import type { DestSegment } from "./destPath.js";

type Container = Record<string, unknown>;

/**
 * Builds one output: writes each field's value at its dest, creating the objects on the way, and keeps the
 * exact UTF-8 size of `JSON.stringify(root)` as it goes, so that a field that would take it over the limit is
 * refused before it is written. Only objects made here are written into; a value taken from the payload is
 * never descended into (it would be the payload's own object).
 */
export class OutputWriter {
  readonly root: Container = {};
  /** `JSON.stringify(root)`'s length in UTF-8 bytes: `{}` to start. */
  bytes = 2;
  /** The entry count of each object made here, the root included. */
  readonly #entries = new Map<object, number>([[this.root, 0]]);
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Writes `value`, whose JSON takes `valueBytes`, at `dest`; returns why not, writing nothing then. */
  write(dest: readonly DestSegment[], value: unknown, valueBytes: number): string | undefined {
    const last = dest.length - 1;
    let target = this.root;
    let depth = 0;
    for (; depth < last; depth++) {
      const key = (dest[depth] as DestSegment).key;
      if (!Object.hasOwn(target, key)) break;
      const next = target[key] as Container;
      if (!this.#entries.has(next)) return `the dest collides with the value another field wrote at ${pathOf(dest, depth)}`;
      target = next;
    }
    const leaf = dest[last] as DestSegment;
    if (depth === last && Object.hasOwn(target, leaf.key)) {
      return this.#entries.has(target[leaf.key] as Container)
        ? "the dest is already an object holding other fields"
        : "the dest is already written by another field";
    }
    const added = this.#cost(target, dest, depth, valueBytes);
    if (this.bytes + added > this.#maxBytes) return `the value would take the output over ${this.#maxBytes} bytes`;
    for (; depth < last; depth++) {
      const made: Container = {};
      this.#put(target, (dest[depth] as DestSegment).key, made);
      this.#entries.set(made, 0);
      target = made;
    }
    this.#put(target, leaf.key, value);
    this.bytes += added;
    return undefined;
  }

  /** Bytes added by writing the keys `dest[from..]` into `target` (new objects on the way), then the value. */
  #cost(target: Container, dest: readonly DestSegment[], from: number, valueBytes: number): number {
    let added = (this.#entries.get(target) === 0 ? 0 : 1) + valueBytes;
    for (let depth = from; depth < dest.length; depth++) added += (dest[depth] as DestSegment).keyBytes;
    return added + 2 * (dest.length - 1 - from);
  }

  #put(target: Container, key: string, value: unknown): void {
    target[key] = value;
    this.#entries.set(target, (this.#entries.get(target) ?? 0) + 1);
  }
}

function pathOf(dest: readonly DestSegment[], depth: number): string {
  return dest
    .slice(0, depth + 1)
    .map((segment) => segment.key)
    .join(".");
}
