import type { Request } from "express";
import { BadRequestError } from "./errors.js";

/**
 * Where browsers reach this server: `SWITCHYARD_PUBLIC_URL` when the operator set it, else the origin the
 * request was sent to (its `Host`, and its protocol as `trust proxy` allows reading it). Session launch URLs
 * start with it, and the embedded pages served from its origin may always use their session
 * (`auth/sessionAccess.ts`).
 */
export function publicBaseUrl(req: Request, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  const sent = `${req.protocol}://${req.get("host") ?? ""}`;
  if (!URL.canParse(sent)) throw new BadRequestError("The Host header is not a host name.", [{ param: "Host", msg: "is not a host" }]);
  return new URL(sent).origin;
}
