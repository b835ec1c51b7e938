import { performance } from "node:perf_hooks";
import type { Request, RequestHandler } from "express";
import type { Logger } from "../logger.js";
import type { Metrics } from "../operations/metrics.js";
import type { OpenApiSpec } from "./openApiSpec.js";
import { requestIdOf } from "./requestId.js";

export interface AccessLogDeps {
  readonly log: Logger;
  readonly metrics: Pick<Metrics, "httpRequests" | "httpRequestDuration">;
  /** For naming API requests that never reached a route (refused by authentication or validation). */
  readonly spec: OpenApiSpec;
}

/**
 * When a response ends, writes one access line (`requestId`, `method`, `route`, `path`, `status`,
 * `durationMs`, `remoteAddress`) and counts the request in the HTTP metrics. Headers, query strings and
 * bodies are never logged: they carry credentials. `route` is a pattern (`/api/v1/workspaces/:id`), never
 * the raw URL, so the metrics' label values stay few; a request no route or spec path matches is
 * `unmatched`. A client that left before its response was sent gets status 499 and `aborted: true`.
 */
export function accessLog(deps: AccessLogDeps): RequestHandler {
  const routeOf = routeNamer(deps.spec);
  return (req, res, next) => {
    const start = performance.now();
    res.once("close", () => {
      const seconds = (performance.now() - start) / 1000;
      const aborted = !res.writableFinished;
      const status = aborted && !res.headersSent ? 499 : res.statusCode;
      const labels = { route: routeOf(req), method: req.method, status: String(status) };
      deps.metrics.httpRequests.inc(labels);
      deps.metrics.httpRequestDuration.observe(labels, seconds);
      deps.log.info(
        {
          requestId: requestIdOf(res),
          method: req.method,
          route: labels.route,
          // The path is the client's to choose: bounded, like everything else a client sends to the log.
          path: pathOf(req).slice(0, 512),
          status,
          durationMs: Math.round(seconds * 100_000) / 100,
          remoteAddress: req.ip,
          ...(aborted ? { aborted: true } : {}),
        },
        "request",
      );
    });
    next();
  };
}

function routeNamer(spec: OpenApiSpec): (req: Request) => string {
  // Spec paths with fewer parameters first, so that /events/bulk wins over a /events/{id}.
  const specRoutes = Object.keys(spec.paths)
    .map((path) => ({
      // Spec paths hold only letters, digits, "-", "/" and {params}: nothing else needs escaping.
      pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
      route: path.replace(/\{([^}]+)\}/g, ":$1"),
      parameters: (path.match(/\{/g) ?? []).length,
    }))
    .sort((a, b) => a.parameters - b.parameters);
  return (req) => {
    // Express leaves the route that handled the request on it; its path is the pattern the router matched.
    const route = (req as { route?: { path?: unknown } }).route;
    if (typeof route?.path === "string") return `${req.baseUrl}${route.path}`;
    const path = pathOf(req);
    return specRoutes.find((r) => r.pattern.test(path))?.route ?? "unmatched";
  };
}

function pathOf(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
