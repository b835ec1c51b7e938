/** Credentials of a machine (server-side) caller: an access key, its secret and its organization. */
export interface MachineCredentials {
  /** The access key, `mk_…`; it becomes the token's `kid` and names its issuer. */
  readonly accessKey: string;
  /** The access key's secret; its UTF-8 bytes are the HMAC-SHA256 key. */
  readonly secretKey: string;
  /** The organization's UUID, the `org` claim. */
  readonly organizationId: string;
}

/** Token lifetime in seconds, as the official SDKs use (the server accepts at most 60). */
export const machineTokenLifetimeSeconds = 30;

const encoder = new TextEncoder();

/**
 * Mints a machine JWT (HS256) with WebCrypto only, so that it runs in Node 20 and in browsers.
 * `now` is in milliseconds since the epoch.
 */
export async function mintMachineToken(credentials: MachineCredentials, now: number = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const header = { alg: "HS256", typ: "JWT", kid: credentials.accessKey };
  const claims = {
    iss: `urn:meshes:m2m:${credentials.accessKey}`,
    aud: "meshes-api",
    org: credentials.organizationId,
    iat,
    exp: iat + machineTokenLifetimeSeconds,
  };
  const signingInput = `${base64UrlJson(header)}.${base64UrlJson(claims)}`;
  const key = await crypto.subtle.importKey("raw", encoder.encode(credentials.secretKey), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput));
  return `${signingInput}.${base64Url(new Uint8Array(signature))}`;
}

function base64UrlJson(value: object): string {
  return base64Url(encoder.encode(JSON.stringify(value)));
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
