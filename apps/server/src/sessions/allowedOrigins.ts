import { BadRequestError } from "../http/errors.js";

/**
 * A session's `allowed_origins`, normalised as browsers serialise the `Origin` header (lower-case scheme and
 * host, no default port, no trailing slash) and without repeats, so that a request's `Origin` is compared
 * with them exactly. Anything but an exact http(s) origin is refused (400 naming `allowed_origins.<i>`): a
 * path, query, fragment or credentials would never match an `Origin` and a wildcard is not offered, so
 * silently dropping either would allow less, or more, than the caller meant.
 */
export function normaliseAllowedOrigins(origins: readonly string[]): string[] {
  const normalised = origins.map(exactOrigin);
  const problems = normalised.flatMap((origin, i) =>
    origin === undefined
      ? [
          {
            param: `allowed_origins.${i}`,
            msg: "must be an exact origin such as https://app.example.com (http or https, host and optional port; no path, query, credentials or wildcard)",
          },
        ]
      : [],
  );
  if (problems.length > 0) throw new BadRequestError("allowed_origins must hold exact origins.", problems);
  return [...new Set(normalised as string[])];
}

/** `value`'s origin when `value` is nothing but an http(s) origin (a trailing `/` allowed); else undefined. */
export function exactOrigin(value: string): string | undefined {
  if (value !== value.trim() || value.includes("*") || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  // `new URL` drops a lone `?` or `#`, which the checks above would not see.
  if (!bare || /[?#]/.test(value) || !["http:", "https:"].includes(url.protocol)) return undefined;
  return url.origin;
}
