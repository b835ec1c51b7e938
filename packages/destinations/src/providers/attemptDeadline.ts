import { performance } from "node:perf_hooks";
import type { AttemptFacts } from "../destinationPlugin.js";

/**
 * The time budget of an attempt made of several provider requests (find a contact, then update it, then add it
 * to a list): `timeoutMs` bounds them all together, and the facts reported carry the attempt's whole duration.
 */
export class AttemptDeadline {
  readonly #started = performance.now();
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** What is left for the next request; 0 once the budget is spent. */
  remainingMs(): number {
    return Math.max(0, Math.floor(this.#timeoutMs - (performance.now() - this.#started)));
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.#started);
  }

  /** The facts of the step that ended the attempt, timed from the attempt's start. */
  finish(facts: AttemptFacts): AttemptFacts {
    return { ...facts, durationMs: this.elapsedMs() };
  }

  /** The facts of an attempt whose budget ran out between two requests. */
  expired(step: string): AttemptFacts {
    return { failure: "timeout", message: `no time left for ${step} within ${this.#timeoutMs} ms`, durationMs: this.elapsedMs() };
  }
}
