import { readFileSync } from "node:fs";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

/** The parts of V8's `.cpuprofile` (what `node --cpu-prof` writes) that a self-time summary needs. */
interface CpuProfile {
  readonly nodes: readonly { id: number; callFrame: CallFrame; children?: readonly number[] }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Main-thread time inside the window that was not idle, in ms. */
  readonly busyMs: number;
  readonly idleMs: number;
  /** Whether the window could be matched to the profile's clock (else every sample was used). */
  readonly windowMatched: boolean;
  /** Self time per category, largest first; shares are of busy time. */
  readonly categories: readonly { readonly category: string; readonly ms: number; readonly share: number }[];
  readonly topFunctions: readonly {
    readonly name: string;
    /** `file:line`, or for a native function the JavaScript function that most often called it. */
    readonly where: string;
    readonly category: string;
    readonly share: number;
  }[];
}

const packageCategories: ReadonlyArray<readonly [RegExp, string]> = [
  [/^express-openapi-validator$/, "express-openapi-validator (request validation)"],
  [/^(ajv|ajv-formats|fast-uri|fast-deep-equal|json-schema-traverse|ajv-draft-04)$/, "ajv (validator internals)"],
  [/^(pg|pg-protocol|pg-pool|pg-types|postgres-.*|pg-connection-string|pgpass)$/, "pg (protocol, parameters, results)"],
  [/^kysely$/, "kysely (query building)"],
  [
    /^(express|router|body-parser|raw-body|iconv-lite|content-type|type-is|on-finished|finalhandler|send|qs|path-to-regexp|mime-types|mime-db|media-typer|depd|http-errors|statuses|vary|accepts|negotiator|encodeurl|escape-html|parseurl|etag|fresh|range-parser|merge-descriptors|cookie|cookie-signature|proxy-addr|forwarded|ipaddr.js|content-disposition|safe-buffer|setprototypeof|inherits|debug|ms|unpipe|bytes|is-promise|once|wrappy|ee-first|destroy|toidentifier|call-bound|get-intrinsic|es-errors|side-channel.*|math-intrinsics)$/,
    "express, router, body parsing",
  ],
  [
    /^(pino|sonic-boom|fast-redact|quick-format-unescaped|thread-stream|atomic-sleep|on-exit-leak-free|pino-std-serializers|safe-stable-stringify|real-require|@pinojs\/.*|slow-redact)$/,
    "pino (access log)",
  ],
  [/^(prom-client|tdigest|bintrees)$/, "prom-client (metrics)"],
  [/^rate-limiter-flexible$/, "rate limiter"],
  [/^jose$/, "jose (JWT)"],
];

/** JavaScript functions whose self time is really a builtin they call (V8 charges inlined builtins to the caller). */
const functionCategories: ReadonlyArray<readonly [string, RegExp, string]> = [
  ["parse", /\/body-parser\/lib\/types\/json\.js$/, "JSON.parse"],
  ["stringify", /\/express\/lib\/response\.js$/, "JSON.stringify"],
];

const nativeCategories: ReadonlyArray<readonly [RegExp, string]> = [
  [/^parse$/, "JSON.parse"],
  [/^stringify$/, "JSON.stringify"],
  [/^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|writeUcs2String)$/, "socket writes (native)"],
  [/^validate\d*$/, "ajv compiled validators"],
];

/** Which part of the server a self frame belongs to. */
export function categoryOf(functionName: string, url: string): string {
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)") return "(idle)";
  if (functionName === "(program)") return "V8/native, unattributed (program)";
  for (const [name, file, category] of functionCategories) if (functionName === name && file.test(url)) return category;
  if (url === "") {
    for (const [pattern, category] of nativeCategories) if (pattern.test(functionName)) return category;
    return "V8 builtins and natives, other";
  }
  const packageMatch = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url);
  if (packageMatch !== null) {
    const name = packageMatch[1] as string;
    for (const [pattern, category] of packageCategories) if (pattern.test(name)) return category;
    return `other packages (${name})`;
  }
  if (url.includes("/packages/event-intake/")) return "event-intake (per-item checks)";
  if (url.includes("/apps/server/")) return "Switchyard server code";
  if (url.startsWith("node:internal/crypto") || url === "node:crypto") return "node crypto (ids, hashes)";
  if (url.startsWith("node:")) return "node core (http, net, streams, timers)";
  return "other";
}

/**
 * Self time by category and the top functions of the samples taken between `windowStartUs` and
 * `windowEndUs` (CLOCK_MONOTONIC microseconds, the clock V8 stamps samples with on Linux). Each sample
 * counts for the time until the next one.
 */
export function summarizeCpuProfile(file: string, windowStartUs: number, windowEndUs: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  /** The nearest caller outside V8 and Node's core: whose work a native function (a socket write, say) did. */
  const jsCallerOf = (id: number): string => {
    for (let parent = parents.get(id); parent !== undefined; parent = parents.get(parent)) {
      const frame = frames.get(parent);
      if (frame !== undefined && frame.url !== "" && !frame.url.startsWith("node:")) {
        return `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      }
    }
    return "";
  };
  const times: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) {
    t += delta;
    times.push(t);
  }
  const inWindow = (i: number) => (times[i] as number) >= windowStartUs && (times[i] as number) < windowEndUs;
  const windowMatched = profile.samples.some((_, i) => inWindow(i));
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, { name: string; where: string; category: string; us: number; callers: Map<string, number> }>();
  let idleUs = 0;
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length - 1; i++) {
    if (windowMatched && !inWindow(i)) continue;
    const nodeId = profile.samples[i] as number;
    const frame = frames.get(nodeId);
    if (frame === undefined || frame.functionName === "(root)") continue;
    const us = (times[i + 1] as number) - (times[i] as number);
    const category = categoryOf(frame.functionName, frame.url);
    if (category === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const where = frame.url === "" ? "" : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: frame.functionName || "(anonymous)", where, category, us: 0, callers: new Map() };
    entry.us += us;
    if (frame.url === "") {
      const caller = jsCallerOf(nodeId);
      entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + us);
    }
    byFunction.set(key, entry);
  }
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    windowMatched,
    categories: [...byCategory].map(([category, us]) => ({ category, ms: us / 1000, share: us / busyUs })).sort((a, b) => b.ms - a.ms),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 20)
      .map(({ name, where, category, us, callers }) => {
        const top = [...callers]
          .filter(([caller]) => caller !== "")
          .sort((a, b) => b[1] - a[1])
          .slice(0, 2)
          .map(([caller, callerUs]) => `${caller} (${Math.round((callerUs / us) * 100)} %)`);
        return { name, where: top.length === 0 ? where : `via ${top.join(", ")}`, category, share: us / busyUs };
      }),
  };
}

function shortUrl(url: string): string {
  const packageMatch = /\/node_modules\/((?:@[^/]+\/)?[^/]+\/.*)$/.exec(url);
  if (packageMatch !== null) return (packageMatch[1] as string).replace(/^(.*\/node_modules\/)/, "");
  const repoMatch = /\/((?:apps|packages)\/.*)$/.exec(url);
  return repoMatch !== null ? (repoMatch[1] as string) : url.replace(/^file:\/\//, "");
}
