/**
 * The graphile-worker tasks Switchyard queues and the job keys it queues them under, spelled here only: the
 * statements take them as parameters.
 *
 * - `deliver` jobs carry `{ rule_events: [ids] }` (attempt these deliveries) or `{ connection, deferrals }` (a
 *   connection's drain, when it was at its cap). A delivery's own job is keyed by the delivery, so adding one
 *   replaces a waiting retry instead of doubling it, and removing it drops any; a drain is keyed by connection.
 * - `route` jobs drain the routing outbox; one key, so at most one waits however many batches arrive.
 */
export const deliverTask = "deliver";
export const routeTask = "route";
export const routeJobKey = "route";

/** The prefix of a delivery's own job key: `deliver:<delivery id>`. */
export const deliveryJobKeyPrefix = `${deliverTask}:`;

export function deliveryJobKey(deliveryId: string): string {
  return `${deliveryJobKeyPrefix}${deliveryId}`;
}

/** The key of a connection's one drain job. */
export function drainJobKey(connectionId: string): string {
  return `drain:${connectionId}`;
}
