import { type Db, inTransaction } from "@switchyard/db";
import type { SecretBox } from "@switchyard/secret-box";
import { sql } from "kysely";
import { listOrganizations } from "../organizations/organizations.repository.js";
import { createAccessKey, createOrganization } from "../organizations/organizations.service.js";
import { createWorkspace } from "../workspaces/workspaces.service.js";

export interface FirstRunCredentials {
  readonly organizationId: string;
  readonly workspaceId: string;
  readonly publishableKey: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/**
 * On a database with no organization, creates a default organization with an access key and a default
 * workspace with its publishable key, and returns the secrets (to be shown once). Returns undefined when
 * the database was already set up. An advisory lock makes concurrent first starts create one set.
 */
export async function bootstrapFirstRun(db: Db, secretBox: SecretBox): Promise<FirstRunCredentials | undefined> {
  return inTransaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('switchyard.bootstrap'))`.execute(trx);
    if ((await listOrganizations(trx)).length > 0) return undefined;
    const organization = await createOrganization(trx, "Default organization");
    const { accessKey, secretKey } = await createAccessKey(trx, secretBox, organization.id, "default");
    const { workspace, publishable_key } = await createWorkspace(trx, organization.id, "Default");
    return { organizationId: organization.id, workspaceId: workspace.id, publishableKey: publishable_key.key, accessKey, secretKey };
  });
}

/** What the start command prints once on first run: the secrets and a curl that works as printed. */
export function firstRunMessage(credentials: FirstRunCredentials, publicUrl: string): string {
  const body = JSON.stringify({ event: "contact.created", payload: { email: "ada@example.com" } });
  return [
    "",
    "Switchyard first run: created a default organization and workspace. These secrets are shown only once.",
    `  Organization:      ${credentials.organizationId}`,
    `  Workspace:         ${credentials.workspaceId}`,
    `  Publishable key:   ${credentials.publishableKey}`,
    `  Access key:        ${credentials.accessKey}`,
    `  Access key secret: ${credentials.secretKey}`,
    "",
    "Emit an event:",
    `  curl -i -X POST ${publicUrl}/api/v1/events \\`,
    "    -H 'Content-Type: application/json' \\",
    `    -H 'X-Meshes-Publishable-Key: ${credentials.publishableKey}' \\`,
    `    -d '${body}'`,
    "",
  ].join("\n");
}
