import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { machineBusyMicros, postgresCpuMicros, processCpuMicros } from "./procStat.js";

/** CPU counters at one instant, in microseconds. */
export interface CpuReading {
  readonly atMs: number;
  /** This process: the raw client, or the HTTP load generator. */
  readonly benchUs: number;
  readonly postgresUs: number;
  /** The server child, when one runs. */
  readonly serverUs: number;
  readonly machineUs: number;
}

export function readCpu(postmasterPid: number, serverPid?: number): CpuReading {
  const own = process.cpuUsage();
  return {
    atMs: performance.now(),
    benchUs: own.user + own.system,
    postgresUs: postgresCpuMicros(postmasterPid),
    serverUs: serverPid === undefined ? 0 : processCpuMicros(serverPid),
    machineUs: machineBusyMicros(),
  };
}

/** CPU spent between two readings, in microseconds, and the wall time between them. */
export interface CpuWindow {
  readonly seconds: number;
  readonly benchUs: number;
  readonly postgresUs: number;
  readonly serverUs: number;
  /**
   * Busy CPU of everything else on the machine (other people's builds and tests, the kernel's own
   * threads), as a share of all cores over the window: a disturbance indicator, 0 on a quiet machine.
   */
  readonly otherLoad: number;
}

export function cpuBetween(start: CpuReading, end: CpuReading): CpuWindow {
  const seconds = (end.atMs - start.atMs) / 1000;
  const benchUs = end.benchUs - start.benchUs;
  const postgresUs = end.postgresUs - start.postgresUs;
  const serverUs = end.serverUs - start.serverUs;
  const otherUs = end.machineUs - start.machineUs - benchUs - postgresUs - serverUs;
  return { seconds, benchUs, postgresUs, serverUs, otherLoad: Math.max(0, otherUs) / (seconds * 1e6 * availableParallelism()) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Other people's builds and tests share these cores. Waits until the whole machine stays below
 * `threshold` of all cores busy for one second (the bench is idle then), for at most `maxWaitMs`;
 * returns how long it waited. A run that starts anyway shows it in its `otherLoad`.
 */
export async function waitForQuietMachine(threshold: number, maxWaitMs: number): Promise<number> {
  if (maxWaitMs <= 0) return 0;
  const began = performance.now();
  for (;;) {
    const before = machineBusyMicros();
    await sleep(1000);
    const busy = (machineBusyMicros() - before) / (1e6 * availableParallelism());
    const waited = performance.now() - began;
    if (busy < threshold || waited >= maxWaitMs + 1000) return waited - 1000;
  }
}
