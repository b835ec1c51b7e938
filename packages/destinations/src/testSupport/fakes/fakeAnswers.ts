import type { ServerResponse } from "node:http";

/** One answer of a fake: its status, its JSON body (none: an empty body) and further headers. */
export interface FakeAnswer {
  readonly status: number;
  readonly json?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Writes `answer`, its body as JSON under `contentType`: each fake sends the one its provider sends. */
export function sendAnswer(res: ServerResponse, answer: FakeAnswer, contentType: string): void {
  if (answer.json === undefined) {
    res.writeHead(answer.status, answer.headers).end();
    return;
  }
  res.writeHead(answer.status, { "Content-Type": contentType, ...answer.headers }).end(JSON.stringify(answer.json));
}

/**
 * What a test told a fake to answer instead of serving the next requests (`failNext`, `answerNext`), in the order
 * told. A script given a `path` waits for a request whose path contains it; one given `times` answers that many.
 */
export class ScriptedAnswers<S> {
  readonly #queue: { readonly script: S; readonly path: string | undefined; remaining: number }[] = [];

  add(script: S, when: { readonly path?: string | undefined; readonly times?: number | undefined } = {}): void {
    this.#queue.push({ script, path: when.path, remaining: when.times ?? 1 });
  }

  /** The script that answers a request to `path`, if any; it is used up. */
  take(path: string): S | undefined {
    const next = this.#queue.find((s) => s.path === undefined || path.includes(s.path));
    if (next === undefined) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) this.#queue.splice(this.#queue.indexOf(next), 1);
    return next.script;
  }
}
