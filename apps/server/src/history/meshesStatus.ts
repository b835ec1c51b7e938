import type { EventStatus, EventStatusDetail } from "@switchyard/client";

/**
 * Meshes names four states of an event or a delivery; Switchyard tells two more apart. Answers carry Meshes'
 * word in `status` and ours in `status_detail`: `retrying` (an attempt failed, another is scheduled) is still
 * being worked on, so `processing`; `canceled` (a caller stopped it before delivery) ended undelivered, so `failed`.
 */
export function meshesStatus(detail: EventStatusDetail): EventStatus {
  if (detail === "retrying") return "processing";
  if (detail === "canceled") return "failed";
  return detail;
}

/** The stored statuses a `?status=` filter selects: Meshes' word takes in ours that answer as it. */
export function statusesMatching(filter: EventStatusDetail): EventStatusDetail[] {
  if (filter === "processing") return ["processing", "retrying"];
  if (filter === "failed") return ["failed", "canceled"];
  return [filter];
}
