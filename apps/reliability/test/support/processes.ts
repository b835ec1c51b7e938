import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

/** A child process whose output goes to a file, with its peak memory sampled while it runs. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;
  readonly running: () => boolean;
  /** Everything it wrote so far (stdout and stderr). */
  readonly output: () => string;
  /** Sends `signal` and returns at once (SIGSTOP, SIGCONT). */
  readonly signal: (signal: NodeJS.Signals) => void;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it lingers). */
  readonly stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void>;
  /** Highest VmHWM (peak resident set) seen, in bytes; sampled every 100 ms, so a kill may hide the last 100 ms. */
  readonly peakRssBytes: () => number;
}

const live = new Set<ChildProcess>();

// Whatever ends the test process (a failed assertion, a timeout, Ctrl-C), no server or worker outlives it.
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === "SIGHUP" ? 1 : signal === "SIGINT" ? 2 : 15));
  });
}

function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

/** Starts `node <args>` with exactly `env` (nothing inherited), its output appended to `logFile`. */
/** A live process's resident set now (VmRSS), in bytes; 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(match?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export function startProcess(name: string, args: readonly string[], env: NodeJS.ProcessEnv, logFile: string): ManagedProcess {
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { env, stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  live.add(child);
  let peak = 0;
  const sample = () => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) peak = Math.max(peak, Number(match[1]) * 1024);
    } catch {
      // Exited between two samples.
    }
  };
  const sampler = setInterval(sample, 100);
  sampler.unref();
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      clearInterval(sampler);
      live.delete(child);
      resolve();
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid,
    logFile,
    exited,
    running,
    signal: (signal) => {
      if (running()) child.kill(signal);
    },
    output: () => readFileSync(logFile, "utf8"),
    stop: async (signal = "SIGTERM", graceMs = 15_000) => {
      if (!running()) return;
      sample();
      child.kill(signal);
      const lingering = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(lingering);
    },
    peakRssBytes: () => {
      if (running()) sample();
      return peak;
    },
  };
}

/** Stops every process still running (afterAll's backstop; the exit hook is the last one). */
export async function stopAllProcesses(): Promise<void> {
  const children = [...live];
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) =>
          child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve()),
        ),
    ),
  );
}
