import { Logger } from "graphile-worker";
import type { WorkerLog } from "./workerLog.js";

/**
 * graphile-worker's own log lines, through ours; its debug chatter is dropped, and so are job payloads (a
 * deliver job names up to hundreds of deliveries: one line per job would otherwise carry them all).
 */
export function graphileLogger(log: WorkerLog): Logger {
  return new Logger((scope) => (level, message, meta) => {
    const { job, ...rest } = { ...scope, ...meta } as { job?: { id?: unknown; task_id?: unknown; attempts?: unknown } };
    const fields = {
      component: "graphile-worker",
      ...rest,
      ...(job === undefined ? {} : { job: { id: job.id, task_id: job.task_id, attempts: job.attempts } }),
    };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else if (level === "info") log.info(fields, message);
  });
}
