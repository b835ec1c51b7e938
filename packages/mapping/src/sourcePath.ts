/** Reads one value out of a payload; `undefined` when the path does not resolve. */
export type PathReader = (payload: unknown) => unknown;

interface Segment {
  readonly key: string;
  /** The array index this segment names (`0`, `12`; not `01`, `-1`), or -1. */
  readonly index: number;
}

const canonicalIndex = /^(?:0|[1-9][0-9]{0,8})$/;

/**
 * Compiles a dot path (`items.0.sku`) into a reader, or returns why it cannot be one. Only own properties are
 * read (`toString`, `constructor` of a plain object are absent), `__proto__` is always absent, an array yields
 * only its elements (by canonical decimal index; `length` is absent), and only objects and arrays are
 * descended into. Iterative, so no payload is too deep for it.
 */
export function compileSourcePath(path: unknown): PathReader | string {
  if (typeof path !== "string" || path === "") return "the source path is not a non-empty string";
  const keys = path.split(".");
  if (keys.some((key) => key === "")) return "the source path has an empty segment";
  if (keys.includes("__proto__")) return readNothing;
  const segments: Segment[] = keys.map((key) => ({ key, index: canonicalIndex.test(key) ? Number(key) : -1 }));
  const first = segments[0] as Segment;
  if (segments.length === 1) return (payload) => readSegment(payload, first);
  return (payload) => {
    let value = payload;
    for (const segment of segments) {
      value = readSegment(value, segment);
      if (value === undefined) return undefined;
    }
    return value;
  };
}

function readSegment(value: unknown, segment: Segment): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) return segment.index >= 0 && Object.hasOwn(value, segment.index) ? value[segment.index] : undefined;
  return Object.hasOwn(value, segment.key) ? (value as Record<string, unknown>)[segment.key] : undefined;
}

function readNothing(): undefined {
  return undefined;
}
