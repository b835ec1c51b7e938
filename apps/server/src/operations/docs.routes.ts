import { fileURLToPath } from "node:url";
import { Router } from "express";
import { specPath } from "../http/openApiSpec.js";

/** Redoc's self-contained browser bundle, from the pinned `redoc` package (no CDN, works offline). */
const redocBundlePath = fileURLToPath(import.meta.resolve("redoc/bundles/redoc.standalone.js"));

/** Where the page loads Redoc from; served by this router. */
export const redocBundleUrl = "/docs/assets/redoc.standalone.js";

// Redoc's standalone bundle finds the <redoc> element and renders the spec named by spec-url.
const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Switchyard API reference</title>
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <redoc spec-url="/openapi.yaml"></redoc>
    <script src="${redocBundleUrl}"></script>
  </body>
</html>
`;

/**
 * Everything the page may load comes from this server: the browser refuses any other origin, so the
 * page cannot reach a CDN or a telemetry endpoint. Redoc styles with injected <style> elements and
 * shows inline SVG and data: images.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// Both files served are fixed paths, never taken from the URL; pnpm installs packages under
// node_modules/.pnpm/, which send() would otherwise refuse as a dotfile.
const fixedFile = { dotfiles: "allow" } as const;

/**
 * The API reference, outside `/api` and unauthenticated: `GET /openapi.yaml` (the public spec, as
 * published) and `GET /docs` (an HTML page rendering it with Redoc, every asset served from here).
 */
export function docsRouter(): Router {
  const router = Router();

  router.get("/openapi.yaml", (_req, res) => {
    res.setHeader("Content-Type", "application/yaml; charset=utf-8");
    res.sendFile(specPath, fixedFile);
  });

  router.get("/docs", (_req, res) => {
    res.set({ "Content-Security-Policy": contentSecurityPolicy, "X-Content-Type-Options": "nosniff" }).type("html").send(page);
  });

  router.get(redocBundleUrl, (_req, res) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.sendFile(redocBundlePath, fixedFile);
  });

  return router;
}
