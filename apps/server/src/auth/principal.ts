/** Who is calling, once authenticated. */
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
