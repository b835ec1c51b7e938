import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of the times in /proc (USER_HZ); 100 on every Linux we run on, but asked, not assumed. */
const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const microsPerTick = 1_000_000 / ticksPerSecond;

interface ProcStat {
  readonly ppid: number;
  /** utime + stime: CPU the process itself (all its threads) used, in ticks. */
  readonly ownTicks: number;
  /** cutime + cstime: CPU of its children that exited and were waited for, in ticks. */
  readonly reapedChildTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined; // exited between listing and reading
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3]);
  return { ppid: field(4), ownTicks: field(14) + field(15), reapedChildTicks: field(16) + field(17) };
}

/** CPU used so far by one process (all threads), in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readStat(pid);
  if (stat === undefined) throw new Error(`process ${pid} is gone`);
  return stat.ownTicks * microsPerTick;
}

/**
 * CPU used so far by a PostgreSQL server, in microseconds: the postmaster, every live child (backends,
 * WAL writer, checkpointer, autovacuum…), and the children that already exited (the postmaster reaps
 * them, so their time is in its cutime/cstime). The difference of two readings is the cluster's CPU in
 * between, including backends that came or went in between.
 */
export function postgresCpuMicros(postmasterPid: number): number {
  const postmaster = readStat(postmasterPid);
  if (postmaster === undefined) throw new Error(`the postmaster ${postmasterPid} is gone`);
  let ticks = postmaster.ownTicks + postmaster.reapedChildTicks;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === postmasterPid) continue;
    const stat = readStat(pid);
    if (stat?.ppid === postmasterPid) ticks += stat.ownTicks;
  }
  return ticks * microsPerTick;
}

/** Non-idle CPU of the whole machine so far (all cores, any process), in microseconds. */
export function machineBusyMicros(): number {
  const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * microsPerTick;
}

/** Peak resident set size of a process so far (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  if (match === null) throw new Error(`no VmHWM for process ${pid}`);
  return Number(match[1]) * 1024;
}
