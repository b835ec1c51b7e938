import type { SessionRole, SessionScope, SessionType } from "@switchyard/client";

/**
 * Who is calling, once authenticated with one of the credentials of Meshes' API (CONTRACT §1): what ingestion
 * and management work with. `Caller` adds the embed session credentials.
 */
export type Principal =
  | {
      readonly kind: "publishableKey";
      /** The only workspace this key may write to. */
      readonly workspaceId: string;
      /** Whether that workspace accepts events (an inactive one refuses each item). */
      readonly workspaceActive: boolean;
      /** `mesh_pub_<workspace>_<key id>`, recorded as `created_by`. */
      readonly publicKey: string;
    }
  | {
      readonly kind: "machine";
      readonly organizationId: string;
      /** The access key (`kid`), recorded as `created_by`. */
      readonly accessKey: string;
    };

/** Any authenticated caller: a `Principal`, an embed session's access token, or a launch token (docs/sessions.md). */
export type Caller = Principal | SessionPrincipal | LaunchPrincipal;

/**
 * An embed session's access token (docs/sessions.md): bound to one workspace, and, for a `resource` session,
 * to one resource. `auth/sessionAccess.ts` has checked the operation against all of it before a handler runs.
 */
export interface SessionPrincipal {
  readonly kind: "session";
  readonly sessionId: string;
  readonly organizationId: string;
  readonly workspaceId: string;
  readonly role: SessionRole;
  readonly scopes: readonly SessionScope[];
  readonly sessionType: SessionType;
  /** Set, with `resourceId`, for a `resource` session only. */
  readonly resource: string | undefined;
  readonly resourceId: string | undefined;
  /** Normalised exact origins; empty = any. */
  readonly allowedOrigins: readonly string[];
}

/** A launch token, on the launch exchange (the only operation that takes one). */
export interface LaunchPrincipal {
  readonly kind: "launch";
  /** The session whose launch token was presented (unused and unexpired when it was checked). */
  readonly sessionId: string;
  /** The launch token's hash: the exchange consumes it, once. */
  readonly launchTokenHash: Buffer;
}
