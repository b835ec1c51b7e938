import type { Db } from "@switchyard/db";
import type { SecretBox } from "@switchyard/secret-box";
import type { Tenant } from "@switchyard/testing";
import { createAccessKey, createOrganization } from "../../src/organizations/organizations.service.js";
import { createWorkspace } from "../../src/workspaces/workspaces.service.js";

export { bearer, type Tenant } from "@switchyard/testing";

/** An organization with an access key and one workspace with its publishable key, made as the CLI makes them. */
export async function createTenant(db: Db, secretBox: SecretBox, name = "Acme"): Promise<Tenant> {
  const organization = await createOrganization(db, name);
  const { accessKey, secretKey } = await createAccessKey(db, secretBox, organization.id, "test");
  const { workspace, publishable_key } = await createWorkspace(db, organization.id, `${name} workspace`);
  return {
    organizationId: organization.id,
    workspaceId: workspace.id,
    publishableKey: publishable_key.key,
    machine: { accessKey, secretKey, organizationId: organization.id },
  };
}

/** Rows stored for a workspace, straight from the table. */
export async function storedEvents(db: Db, workspaceId: string): Promise<Array<{ id: string; event: string; payload: unknown }>> {
  return db.selectFrom("events").select(["id", "event", "payload"]).where("workspace_id", "=", workspaceId).orderBy("id").execute();
}
