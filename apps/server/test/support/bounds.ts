import { appendFileSync } from "node:fs";
import { expect } from "vitest";

/**
 * Asserts a timed bound, `value < limit`, and when `SWITCHYARD_TEST_BOUNDS` names a file appends the
 * measured value to it as a JSON line: docs/reliability.md lists each bound's spread over repeated runs.
 */
export function expectWithin(name: string, value: number, limit: number): void {
  const file = process.env.SWITCHYARD_TEST_BOUNDS;
  if (file) appendFileSync(file, `${JSON.stringify({ name, value: Math.round(value * 10) / 10, limit })}\n`);
  expect(value, name).toBeLessThan(limit);
}
