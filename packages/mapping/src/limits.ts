/** Bounds on what one application of a mapping produces. */
export interface MappingLimits {
  /**
   * Largest output, in UTF-8 bytes of `JSON.stringify(output)`. A field whose value would take the output
   * past it is an error of that field (handled by its `on_error`), so the output never exceeds it.
   * At least 2 (`{}`): a smaller value is raised to 2. Default 262144 (256 KiB).
   */
  readonly maxOutputBytes: number;
  /**
   * Longest string a field may produce, in UTF-16 code units (JavaScript's `length`). A longer one is an
   * error of that field. Default 65536.
   */
  readonly maxStringLength: number;
}

export const defaultMappingLimits: MappingLimits = Object.freeze({
  maxOutputBytes: 256 * 1024,
  maxStringLength: 65536,
});

/** The defaults, overridden by each given limit that is a number ≥ 0 (anything else is ignored). */
export function resolveMappingLimits(limits: Partial<MappingLimits> | undefined): MappingLimits {
  const given = typeof limits === "object" && limits !== null ? limits : {};
  return Object.freeze({
    maxOutputBytes: Math.max(2, pick(given.maxOutputBytes, defaultMappingLimits.maxOutputBytes)),
    maxStringLength: pick(given.maxStringLength, defaultMappingLimits.maxStringLength),
  });
}

function pick(value: unknown, fallback: number): number {
  return typeof value === "number" && value >= 0 && !Number.isNaN(value) ? value : fallback;
}
