import type { PathStep } from "./parseTemplate.js";

/**
 * The value at a path from the payload root, or undefined. Only own data properties are read: inherited ones
 * (`constructor`, `__proto__`, `toString`) are absent, and getters are never called, so a path reads data and
 * runs nothing. As in Liquid, `size` (of an array, string or object), `first` and `last` (of an array) answer
 * when the value has no own property of that name.
 */
export function resolvePath(root: unknown, steps: readonly PathStep[]): unknown {
  let value = root;
  for (const step of steps) {
    if (value === undefined) return undefined;
    value = typeof step === "string" ? readStep(value, step) : readFromEnd(value, step.fromEnd);
  }
  return value;
}

function readStep(value: unknown, name: string): unknown {
  if (typeof value === "string") return name === "size" ? value.length : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  const own = Object.getOwnPropertyDescriptor(value, name);
  if (own !== undefined) return own.value;
  return Array.isArray(value) ? arrayProperty(value, name) : name === "size" ? Object.keys(value).length : undefined;
}

function arrayProperty(array: readonly unknown[], name: string): unknown {
  if (name === "size") return array.length;
  if (name === "first") return readFromEnd(array, array.length);
  if (name === "last") return readFromEnd(array, 1);
  return undefined;
}

function readFromEnd(value: unknown, fromEnd: number): unknown {
  if (!Array.isArray(value) || fromEnd > value.length) return undefined;
  return Object.getOwnPropertyDescriptor(value, String(value.length - fromEnd))?.value;
}
