import { type Client, createEventsBulk, type EventInput } from "@switchyard/client";

/** One `POST /events/bulk` as the client saw it. */
export interface TimedBulk {
  /** `Date.now()` when it was sent. */
  readonly sentAt: number;
  readonly status: number | "no answer";
  /** The error envelope's `error.name`, when the answer was an error. */
  readonly errorName: string | undefined;
  /** From sending to the end of the answer (or of the wait for one). */
  readonly ms: number;
  /** The ids of the events it acknowledged. */
  readonly ids: readonly string[];
}

/** Sends `body` with the publishable key through the generated client, giving up after `timeoutMs`; never rejects. */
export async function timedBulk(client: Client, publishableKey: string, body: EventInput[], timeoutMs: number): Promise<TimedBulk> {
  const sentAt = Date.now();
  const result = await createEventsBulk({
    client,
    headers: { "X-Meshes-Publishable-Key": publishableKey },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  }).catch(() => undefined);
  return {
    sentAt,
    status: result?.response?.status ?? "no answer",
    errorName: result?.error?.error.name,
    ms: Date.now() - sentAt,
    ids: result?.data?.records.flatMap((r) => (r.type === "event" ? [r.id] : [])) ?? [],
  };
}
