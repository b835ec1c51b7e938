import { jsonStringBytes } from "./jsonBytes.js";

/** One key of a dest path, with what it costs in the output's JSON: `"key":`, in UTF-8 bytes. */
export interface DestSegment {
  readonly key: string;
  readonly keyBytes: number;
}

/** Keys that could reach an object's prototype, refused anywhere in a dest. */
const forbiddenKeys = new Set(["__proto__", "constructor", "prototype"]);

/** Compiles a dest (`properties.email`) into its keys, or returns why it cannot be one. */
export function compileDestPath(dest: unknown): readonly DestSegment[] | string {
  if (typeof dest !== "string" || dest === "") return "the dest is not a non-empty string";
  const keys = dest.split(".");
  if (keys.some((key) => key === "")) return "the dest has an empty segment";
  const forbidden = keys.find((key) => forbiddenKeys.has(key));
  if (forbidden !== undefined) return `the dest may not use the key ${forbidden}`;
  return Object.freeze(keys.map((key) => ({ key, keyBytes: jsonStringBytes(key) + 1 })));
}
