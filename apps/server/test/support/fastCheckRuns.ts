import { randomInt } from "node:crypto";

/**
 * fast-check parameters for one test file's properties, all with one seed: `FC_SEED` when set (to replay a
 * failure), else a random one, printed with the command that replays the run (fast-check's report also gives
 * the counterexample and its path).
 */
export function fastCheckRuns(file: string): (numRuns: number) => { seed: number; numRuns: number } {
  const seed = process.env.FC_SEED === undefined ? randomInt(2 ** 31 - 1) : Number(process.env.FC_SEED);
  console.info(`${file}: fast-check seed ${seed} (replay with FC_SEED=${seed} npx vitest run ${file})`);
  return (numRuns) => ({ seed, numRuns });
}
