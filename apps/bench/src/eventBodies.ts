import { uuidv7 } from "@switchyard/server";
import type { EventRow } from "./switchyardRepository.js";

/** Events per bulk request and rows per raw statement. */
export const batchSize = 100;

const firstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"];
const lastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie"];
const plans = ["free", "starter", "pro", "enterprise"];
const sources = ["pricing_page", "newsletter", "partner_referral", "webinar"];
const locales = ["en-GB", "en-US", "de-DE", "fr-FR", "pt-BR"];

/** The `n`th item's event fields (ASCII only, so string offsets are byte offsets). */
function sampleEvent(n: number): { event: string; resource: string; resourceId: string; payloadJson: string } {
  const first = firstNames[n % firstNames.length] as string;
  const last = lastNames[Math.floor(n / firstNames.length) % lastNames.length] as string;
  const id = String(10_000 + n);
  const payload = {
    email: `${first.toLowerCase()}.${last.toLowerCase()}+${id}@example.com`,
    name: `${first} ${last}`,
    plan: plans[n % plans.length],
    company: { name: `${last} Analytical Engines Ltd`, employees: 10 + ((n * 37) % 990) },
    source: sources[n % sources.length],
    locale: locales[n % locales.length],
    marketing_opt_in: n % 3 !== 0,
    score: Math.round(((n * 7919) % 1000) / 10),
  };
  return { event: "contact.created", resource: "contact", resourceId: `c_${id}`, payloadJson: JSON.stringify(payload) };
}

export interface BulkRequests {
  /** A complete HTTP/1.1 request (head and body) whose 100 idempotency keys no earlier call returned. */
  readonly next: () => Buffer;
  readonly bodyBytes: number;
  readonly payloadBytes: number;
}

/**
 * Pre-serializes one `POST /api/v1/events/bulk` request and, per call, copies it and writes a 12-digit
 * request counter into each item's idempotency key (`<run prefix>-<counter>-<item>`), so that every key is
 * distinct at the cost of a 23 KB copy: the load generator must leave the 2 cores to the server.
 */
export function bulkRequests(options: {
  readonly host: string;
  readonly port: number;
  readonly publishableKey: string;
  readonly runPrefix: string;
}): BulkRequests {
  const marker = "\u0001";
  const counterDigits = 12;
  const items: string[] = [];
  let payloadBytes = 0;
  for (let i = 0; i < batchSize; i++) {
    const e = sampleEvent(i);
    payloadBytes += e.payloadJson.length;
    const key = `${options.runPrefix}-${marker}-${String(i).padStart(2, "0")}`;
    items.push(
      `{"event":"${e.event}","resource":"${e.resource}","resource_id":"${e.resourceId}","idempotency_key":"${key}","payload":${e.payloadJson}}`,
    );
  }
  const body = `[${items.join(",")}]`;
  const bodyBytes = body.length - batchSize + batchSize * counterDigits;
  const head =
    `POST /api/v1/events/bulk HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nContent-Type: application/json\r\n` +
    `X-Meshes-Publishable-Key: ${options.publishableKey}\r\nContent-Length: ${bodyBytes}\r\n\r\n`;
  const parts = (head + body).split(marker);
  const positions: number[] = [];
  let offset = 0;
  for (const part of parts.slice(0, -1)) {
    offset += part.length;
    positions.push(offset);
    offset += counterDigits;
  }
  const template = Buffer.from(parts.join("0".repeat(counterDigits)), "latin1");
  let counter = 0;
  return {
    bodyBytes,
    payloadBytes: Math.round(payloadBytes / batchSize),
    next: () => {
      counter += 1;
      const digits = String(counter).padStart(counterDigits, "0");
      const request = Buffer.allocUnsafe(template.length);
      template.copy(request);
      for (const position of positions) request.write(digits, position, "latin1");
      return request;
    },
  };
}

/**
 * Batches of event rows as the server passes them to PostgreSQL (`serializeRow` in events.repository.ts):
 * one JSON array per statement, new time-ordered ids each time, the same payloads as the HTTP bodies.
 */
export function rawBatches(options: { readonly workspaceId: string; readonly createdBy: string }): () => string {
  const fixed = Array.from({ length: batchSize }, (_, i) => {
    const e = sampleEvent(i);
    return {
      head: `","workspace_id":"${options.workspaceId}","event":"${e.event}","resource":"${e.resource}","resource_id":"${e.resourceId}","created_by":"${options.createdBy}"`,
      tail: `,"payload":${e.payloadJson}}`,
    };
  });
  return () => {
    const rows: string[] = new Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const f = fixed[i] as (typeof fixed)[number];
      rows[i] = `{"id":"${uuidv7()}${f.head}${f.tail}`;
    }
    return `[${rows.join(",")}]`;
  };
}

/**
 * Batches of the rows Switchyard's `insertEvents` takes, each with a distinct idempotency key, the same
 * events as the HTTP bodies.
 */
export function repositoryBatches(options: {
  readonly workspaceId: string;
  readonly createdBy: string;
  readonly runPrefix: string;
}): () => EventRow[] {
  const fixed = Array.from({ length: batchSize }, (_, i) => ({ ...sampleEvent(i), keyTail: `-${String(i).padStart(2, "0")}` }));
  let counter = 0;
  return () => {
    counter += 1;
    const digits = String(counter).padStart(12, "0");
    return fixed.map((f) => ({
      id: uuidv7(),
      workspace_id: options.workspaceId,
      event: f.event,
      resource: f.resource,
      resource_id: f.resourceId,
      payloadJson: f.payloadJson,
      created_by: options.createdBy,
      idempotency_key: `${options.runPrefix}-${digits}${f.keyTail}`,
    }));
  };
}
