import { performance } from "node:perf_hooks";
import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, DeliveryRequest } from "../destinationPlugin.js";
import { callProvider, type ProviderAnswer } from "../providers/callProvider.js";
import { apiBase } from "../providers/providerSettings.js";

/** Resend's documented API origin; `SWITCHYARD_RESEND_API_URL` replaces it. */
export const resendApiBase = "https://api.resend.com";

/**
 * The requests of one Resend attempt, sharing its time budget: an action of several requests (a contact upsert,
 * then the segment) never runs past the attempt's `timeoutMs` in total.
 */
export interface ResendCaller {
  call(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    options?: { json?: unknown; headers?: Record<string, string> },
  ): Promise<ProviderAnswer>;
  /** `facts` with the duration of the whole attempt, every request included. */
  finish(facts: AttemptFacts): AttemptFacts;
}

export function resendCaller(request: DeliveryRequest, context: DeliveryContext, apiKey: string): ResendCaller {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const base = apiBase(context.providers, "resend", resendApiBase);
  return {
    async call(method, path, options = {}) {
      const remaining = request.timeoutMs - elapsed();
      if (remaining <= 0) {
        return {
          facts: { failure: "timeout", message: `no answer within ${request.timeoutMs} ms`, durationMs: elapsed() },
          json: undefined,
        };
      }
      return callProvider(
        {
          method,
          url: `${base}${path}`,
          headers: { Authorization: `Bearer ${apiKey}`, ...options.headers },
          ...(options.json === undefined ? {} : { json: options.json }),
          timeoutMs: remaining,
        },
        context,
        request.now,
      );
    },
    finish: (facts) => ({ ...facts, durationMs: elapsed() }),
  };
}
