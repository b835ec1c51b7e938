import type { IncomingMessage, ServerResponse } from "node:http";
import { startReceiver } from "../startReceiver.js";
import { sendAnswer } from "./fakeAnswers.js";
import { type FakeJsonRequest, fakeJsonRequest } from "./fakeJsonRequest.js";

/**
 * A local SendGrid v3 API for tests: `POST /v3/mail/send` and `GET /v3/templates`, each checked as SendGrid
 * documents it (method, path, `Authorization: Bearer <key>`, body shape), answering SendGrid's documented success
 * (202, no body) or error (`{ errors: [{ message, field, help }] }`), or a failure it was told to give next.
 */
export interface SendgridFake {
  /** `http://127.0.0.1:<port>`: the operator's `SWITCHYARD_SENDGRID_API_URL` in tests. */
  readonly origin: string;
  /** The only key the fake accepts. */
  readonly apiKey: string;
  /** Every request received, in order, its body parsed as JSON (undefined when empty or not JSON). */
  readonly requests: readonly SendgridFakeRequest[];
  /** The Mail Send bodies accepted (answered 202), in order. */
  readonly sent: readonly Record<string, unknown>[];
  /** Answers the next request with this failure instead of checking it (once per call; queued in order). */
  failNext(failure: SendgridFailure): void;
  close(): Promise<void>;
}

export type SendgridFakeRequest = FakeJsonRequest;

/**
 * What the fake can be told to answer: a 400 validation error, a 401 bad key, a 403 missing scope, a 429 (with
 * `Retry-After` seconds and/or `X-RateLimit-Reset` epoch seconds, as given), or a 5xx (500 unless given).
 */
export type SendgridFailure =
  | { readonly kind: "validation" }
  | { readonly kind: "unauthorized" }
  | { readonly kind: "forbidden" }
  | { readonly kind: "rate_limited"; readonly retryAfterSeconds?: number; readonly resetAtEpochSeconds?: number }
  | { readonly kind: "server_error"; readonly status?: number };

export interface SendgridFakeOptions {
  /** Default `SG.fake-key`. */
  readonly apiKey?: string;
  /** The account's dynamic templates, listed by `GET /v3/templates?generations=dynamic`. Default: two. */
  readonly templates?: readonly { readonly id: string; readonly name: string }[];
}

export const defaultSendgridTemplates = [
  { id: "d-1111aaaa2222bbbb3333cccc4444dddd", name: "Welcome" },
  { id: "d-5555eeee6666ffff7777aaaa8888bbbb", name: "Receipt" },
] as const;

export async function startSendgridFake(options: SendgridFakeOptions = {}): Promise<SendgridFake> {
  const apiKey = options.apiKey ?? "SG.fake-key";
  const templates = options.templates ?? defaultSendgridTemplates;
  const requests: SendgridFakeRequest[] = [];
  const sent: Record<string, unknown>[] = [];
  const failures: SendgridFailure[] = [];
  const receiver = await startReceiver((req, res, body) => {
    const request = fakeJsonRequest(req, body);
    requests.push(request);
    const { json } = request;
    const failure = failures.shift();
    if (failure !== undefined) return answerFailure(res, failure);
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return answer(res, 401, errors({ field: null, message: "The provided authorization grant is invalid, expired, or revoked" }));
    }
    route(req, res, json, { templates, sent });
  });
  return {
    origin: receiver.origin,
    apiKey,
    requests,
    sent,
    failNext: (failure) => void failures.push(failure),
    close: () => receiver.close(),
  };
}

interface FakeState {
  readonly templates: readonly { readonly id: string; readonly name: string }[];
  readonly sent: Record<string, unknown>[];
}

function route(req: IncomingMessage, res: ServerResponse, json: unknown, state: FakeState): undefined {
  const url = new URL(req.url ?? "/", "http://fake");
  if (req.method === "POST" && url.pathname === "/v3/mail/send") {
    const problems = mailSendProblems(json, req.headers["content-type"]);
    if (problems.length > 0) return answer(res, 400, { errors: problems });
    state.sent.push(json as Record<string, unknown>);
    res.writeHead(202, { "X-Message-Id": `fake-${state.sent.length}` }).end();
    return;
  }
  if (req.method === "GET" && url.pathname === "/v3/templates") return listTemplates(res, url, state.templates);
  answer(res, 404, errors({ field: null, message: "resource not found" }));
}

/** `generations=dynamic` and a `page_size` of 1 to 200 (required); pages by `page_token` (the next offset here). */
function listTemplates(res: ServerResponse, url: URL, templates: FakeState["templates"]): undefined {
  const pageSize = Number(url.searchParams.get("page_size"));
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200) {
    return answer(res, 400, errors({ field: "page_size", message: "page_size should be between 1 and 200" }));
  }
  if (url.searchParams.get("generations") !== "dynamic") return answer(res, 200, { result: [], _metadata: { count: 0 } });
  const offset = Number(url.searchParams.get("page_token") ?? "0") || 0;
  const result = templates.slice(offset, offset + pageSize).map((t) => ({ ...t, generation: "dynamic", versions: [] }));
  const nextOffset = offset + pageSize;
  const base = `https://api.sendgrid.com/v3/templates?generations=dynamic&page_size=${pageSize}`;
  const next = nextOffset < templates.length ? `${base}&page_token=${nextOffset}` : undefined;
  answer(res, 200, { result, _metadata: { self: base, count: templates.length, ...(next === undefined ? {} : { next }) } });
}

type FieldError = { field: string | null; message: string };

/** The documented shape of Mail Send: personalizations with `to`, a `from` address, and a template or content with a subject. */
function mailSendProblems(json: unknown, contentType: string | undefined): FieldError[] {
  if (!/^application\/json/i.test(contentType ?? "")) return [{ field: null, message: "Content-Type should be application/json." }];
  if (typeof json !== "object" || json === null) return [{ field: null, message: "Bad Request" }];
  const mail = json as Record<string, unknown>;
  const problems: FieldError[] = [];
  const personalizations = mail.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    problems.push({
      field: "personalizations",
      message: "The personalizations field is required and must have at least one personalization.",
    });
  } else {
    personalizations.forEach((p: { to?: unknown }, i) => {
      if (!Array.isArray(p?.to) || p.to.length === 0 || !p.to.every((to: { email?: unknown }) => isAddress(to?.email))) {
        problems.push({
          field: `personalizations.${i}.to`,
          message: "The to array is required for all personalization objects, with valid email addresses.",
        });
      }
    });
  }
  if (!isAddress((mail.from as { email?: unknown } | undefined)?.email)) {
    problems.push({
      field: "from.email",
      message: "The from object must be provided for every email send. It is an object that requires the email parameter.",
    });
  }
  if (mail.template_id === undefined) {
    if (typeof mail.subject !== "string" || mail.subject === "") problems.push({ field: "subject", message: "The subject is required." });
    const content = mail.content;
    if (
      !Array.isArray(content) ||
      content.length === 0 ||
      !content.every((c) => typeof c?.type === "string" && typeof c?.value === "string" && c.value !== "")
    ) {
      problems.push({ field: "content", message: "Unless a valid template_id is provided, the content parameter is required." });
    }
  } else if (typeof mail.template_id !== "string" || !mail.template_id.startsWith("d-")) {
    problems.push({ field: "template_id", message: "The template_id must be a valid dynamic template id." });
  }
  return problems;
}

function answerFailure(res: ServerResponse, failure: SendgridFailure): undefined {
  switch (failure.kind) {
    case "validation":
      return answer(res, 400, errors({ field: "from.email", message: "The from email does not contain a valid address." }));
    case "unauthorized":
      return answer(res, 401, errors({ field: null, message: "The provided authorization grant is invalid, expired, or revoked" }));
    case "forbidden":
      return answer(res, 403, errors({ field: null, message: "access forbidden" }));
    case "rate_limited": {
      const headers: Record<string, string> = { "X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0" };
      if (failure.retryAfterSeconds !== undefined) headers["Retry-After"] = String(failure.retryAfterSeconds);
      if (failure.resetAtEpochSeconds !== undefined) headers["X-RateLimit-Reset"] = String(failure.resetAtEpochSeconds);
      return answer(res, 429, errors({ field: null, message: "too many requests" }), headers);
    }
    case "server_error":
      return answer(res, failure.status ?? 500, errors({ field: null, message: "internal server error" }));
  }
}

function errors(error: FieldError): { errors: (FieldError & { help: null })[] } {
  return { errors: [{ ...error, help: null }] };
}

function answer(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): undefined {
  sendAnswer(res, { status, json, headers }, "application/json");
}

function isAddress(value: unknown): boolean {
  return typeof value === "string" && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}
