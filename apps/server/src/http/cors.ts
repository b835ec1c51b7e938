import type { RequestHandler } from "express";
import { type OpenApiSpec, securityByRoute } from "./openApiSpec.js";

/**
 * Request headers a browser may send to the ingestion endpoints: ours, and every header Meshes' official
 * events client sends (`X-Meshes-Client` on every request; `Accept` is safelisted only for safe values).
 */
export const corsAllowedHeaders = [
  "Content-Type",
  "Accept",
  "X-Meshes-Publishable-Key",
  "X-Meshes-Client",
  "Authorization",
  "Idempotency-Key",
  "X-Request-Id",
];

/** Response headers a browser script may read (besides the CORS-safelisted ones). */
export const corsExposedHeaders = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "X-Request-Id"];

/** How long a browser may cache a preflight: 2 h, Chromium's ceiling (Firefox allows 24 h). */
export const corsMaxAgeSeconds = 7200;

export interface CorsOptions {
  readonly spec: OpenApiSpec;
  /** `*` for any origin, else the exact origins allowed. */
  readonly origins: "*" | readonly string[];
}

/**
 * CORS for the operations that accept a publishable key (the browser-safe ingestion endpoints) and for
 * nothing else: management operations get no `Access-Control-*` header, so browsers refuse to call them.
 * Mounted before authentication and the validator: a preflight carries no credential and its method
 * (OPTIONS) is not in the spec, so both would refuse it. A preflight that is not approved falls through
 * and is answered as any undocumented route is (404), without CORS headers.
 */
export function cors(options: CorsOptions): RequestHandler {
  const browserRoutes = securityByRoute(options.spec).filter((r) => r.schemes.has("publishableKey"));
  const anyOrigin = options.origins === "*";
  const allowed = new Set(anyOrigin ? [] : options.origins);
  const allowOrigin = (origin: string) => (anyOrigin ? "*" : allowed.has(origin) ? origin : undefined);
  const methodsFor = (path: string) => browserRoutes.filter((r) => r.pattern.test(path)).map((r) => r.method);

  return (req, res, next) => {
    const origin = req.get("origin");
    const isPreflight = req.method === "OPTIONS" && req.get("access-control-request-method") !== undefined;
    const methods = methodsFor(req.path);
    if (methods.length === 0 || origin === undefined) return next();
    // With an allow-list the answer depends on Origin, so caches must key on it.
    if (!anyOrigin) res.vary("Origin");
    const allowedOrigin = allowOrigin(origin);
    if (allowedOrigin === undefined) return next();

    if (isPreflight) {
      if (!methods.includes(req.get("access-control-request-method")?.toUpperCase() ?? "")) return next();
      res.set({
        "Access-Control-Allow-Origin": allowedOrigin,
        "Access-Control-Allow-Methods": methods.join(", "),
        "Access-Control-Allow-Headers": corsAllowedHeaders.join(", "),
        "Access-Control-Max-Age": String(corsMaxAgeSeconds),
      });
      res.status(204).end();
      return;
    }
    if (!methods.includes(req.method)) return next();
    res.set({ "Access-Control-Allow-Origin": allowedOrigin, "Access-Control-Expose-Headers": corsExposedHeaders.join(", ") });
    next();
  };
}
