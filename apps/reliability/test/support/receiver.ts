import { type Answer, type Receiver, type ReceiverOptions, startReceiver } from "@switchyard/testing";

export type { Answer } from "@switchyard/testing";

/** One webhook a receiver got. */
export interface ReceivedWebhook {
  /** The Standard Webhooks id: the same for every attempt at one delivery. */
  readonly webhookId: string;
  /** The event's id (the wrapped body's `uuid`). */
  readonly eventId: string;
  /** How many requests with this webhook-id came before this one. */
  readonly repeat: number;
  /** `Date.now()` when the body had arrived. */
  readonly at: number;
}

export interface WebhookReceiver extends Pick<Receiver, "url" | "inFlight" | "peakInFlight" | "up" | "close"> {
  readonly received: ReceivedWebhook[];
  /** Distinct webhook-ids seen. */
  readonly deliveries: () => number;
  /** Requests beyond the first for a webhook-id: what a receiver drops by webhook-id. */
  readonly duplicates: () => number;
  /** Requests for a webhook-id this receiver had already answered with a 2xx (retries after failures are not counted). */
  readonly repeatsAfterSuccess: () => number;
}

/**
 * A customer's webhook endpoint on loopback (the tests' scripted receiver), answering each webhook as `answer`
 * says and counting them by webhook-id: what the scenarios' figures report. The only fake in these
 * scenarios: destinations are third parties.
 */
export async function startWebhookReceiver(
  answer: (webhook: ReceivedWebhook) => Answer,
  options: Pick<ReceiverOptions, "down"> = {},
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const seen = new Map<string, number>();
  const succeeded = new Set<string>();
  let repeatsAfterSuccess = 0;
  const webhookIdOf = (headers: { readonly [name: string]: unknown }) => String(headers["webhook-id"] ?? "");
  const receiver = await startReceiver(
    (request) => {
      const webhookId = webhookIdOf(request.headers);
      let eventId = "";
      try {
        eventId = String((JSON.parse(request.body.toString("utf8")) as { uuid?: unknown }).uuid ?? "");
      } catch {
        // Not a wrapped webhook body; counted by webhook-id only.
      }
      const repeat = seen.get(webhookId) ?? 0;
      if (succeeded.has(webhookId)) repeatsAfterSuccess += 1;
      seen.set(webhookId, repeat + 1);
      const webhook: ReceivedWebhook = { webhookId, eventId, repeat, at: request.at };
      received.push(webhook);
      const reply = answer(webhook);
      return typeof reply === "string" ? reply : { body: "ok", ...reply };
    },
    {
      ...options,
      onAnswered: (request, status) => {
        if (status >= 200 && status < 300) succeeded.add(webhookIdOf(request.headers));
      },
    },
  );
  return {
    url: receiver.url,
    received,
    inFlight: receiver.inFlight,
    peakInFlight: receiver.peakInFlight,
    deliveries: () => seen.size,
    duplicates: () => received.length - seen.size,
    repeatsAfterSuccess: () => repeatsAfterSuccess,
    up: receiver.up,
    close: receiver.close,
  };
}
