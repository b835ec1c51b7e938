import { type MachineCredentials, mintMachineToken } from "@switchyard/client";

/**
 * A caller that puts on the wire what Meshes' management API client (`@mesheshq/api`, used unchanged by Meshes'
 * MCP server) puts there, as read in its source; our own code, written to the same behaviour:
 * - the constructor refuses an organization id that is not a UUID of version 1–5, an access key not
 *   `mk_` + 22 or more URL-safe characters, and a secret under 43 URL-safe characters;
 * - every request carries exactly `X-Meshes-Client: Meshes API Client v1.0.0`, `Content-Type: application/json`,
 *   `Accept: application/json` and `Authorization: Bearer <fresh 30 s HS256 JWT>`, whatever the method;
 * - a body is `JSON.stringify(body)` when given, and none otherwise (a POST with nothing to send, such as a
 *   retry, still says `Content-Type: application/json`);
 * - query values are stringified with `URLSearchParams` (booleans become `true`/`false`), and the MCP server
 *   leaves out the ones it has no value for;
 * - a 2xx body is parsed as JSON (an empty body is `null`, non-JSON text is kept as text); any other status is
 *   an error carrying the status and the parsed body.
 */
export interface MeshesAnswer {
  readonly status: number;
  readonly body: unknown;
  /** The response's headers, for the few checks that need them (content type). */
  readonly headers: Headers;
}

export type MeshesQuery = Record<string, string | number | boolean | undefined | null>;

export interface MeshesApi {
  get(path: string, query?: MeshesQuery): Promise<MeshesAnswer>;
  post(path: string, body?: unknown): Promise<MeshesAnswer>;
  put(path: string, body: unknown): Promise<MeshesAnswer>;
  delete(path: string, body?: unknown): Promise<MeshesAnswer>;
}

const organizationIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const accessKeyPattern = /^mk_[A-Za-z0-9_-]{22,}$/;
const secretKeyPattern = /^[A-Za-z0-9_-]{43,}$/;

/** The client's own refusal, raised at construction as Meshes' client raises it. */
export class MeshesClientRefusal extends Error {}

/** `baseUrl` is the server's origin; like the MCP server, `/api/v1` is added unless the URL already ends in `/api/vN`. */
export function meshesApi(baseUrl: string, credentials: MachineCredentials): MeshesApi {
  if (!organizationIdPattern.test(credentials.organizationId)) {
    throw new MeshesClientRefusal(`Missing or invalid account organization ID: ${credentials.organizationId}`);
  }
  if (!accessKeyPattern.test(credentials.accessKey))
    throw new MeshesClientRefusal(`Missing or invalid access key: ${credentials.accessKey}`);
  if (!secretKeyPattern.test(credentials.secretKey)) throw new MeshesClientRefusal("Missing or invalid secret key");
  const trimmed = baseUrl.replace(/\/+$/, "");
  const apiBase = /\/api\/v\d+$/i.test(trimmed) ? trimmed : `${trimmed}/api/v1`;

  const send = async (method: string, path: string, body: unknown, query?: MeshesQuery): Promise<MeshesAnswer> => {
    const headers = {
      "X-Meshes-Client": "Meshes API Client v1.0.0",
      "Content-Type": "application/json",
      Accept: "application/json",
      Authorization: `Bearer ${await mintMachineToken(credentials)}`,
    };
    const response = await fetch(`${apiBase}${path}${queryString(query)}`, {
      method,
      headers,
      body: body ? (typeof body === "string" ? body : JSON.stringify(body)) : null,
    });
    return { status: response.status, body: await readBody(response), headers: response.headers };
  };
  return {
    get: (path, query) => send("GET", path, undefined, query),
    post: (path, body) => send("POST", path, body),
    put: (path, body) => send("PUT", path, body),
    delete: (path, body) => send("DELETE", path, body),
  };
}

function queryString(query: MeshesQuery | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null) params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
