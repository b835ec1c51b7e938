import { randomUUID } from "node:crypto";
import { type Db, inTransaction } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { generateAccessKey } from "../auth/credentials.js";
import { ConflictError, NotFoundError } from "../http/errors.js";
import { insertAccessKey } from "./accessKeys.repository.js";
import { changeOrganizationId, insertOrganization, lockOrganization, organizationExists } from "./organizations.repository.js";

/**
 * Organization ids are UUIDv4, not v7 like every other id: Meshes' API client (and so its MCP server) refuses an
 * organization id whose version is not 1–5. Organizations are few and never scanned by id order.
 */
export async function createOrganization(db: Db, name: string): Promise<{ id: string; name: string; created_at: Date }> {
  return insertOrganization(db, { id: randomUUID(), name });
}

/** A UUID of version 1–5 with the RFC variant: the organization ids Meshes' API client accepts (its own check). */
const meshesOrganizationId = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const anyUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Moves an organization made before ids were UUIDv4 (its id is a UUIDv7, which Meshes' API client refuses) to a
 * new UUIDv4 id, in one transaction: its access keys, workspaces and everything under them follow. Machine JWTs
 * name the organization (`org`), so from the commit on, tokens minted with the old id are refused (401) and
 * callers must be configured with the new one. Refused, changing nothing: an unknown organization (404) and one
 * whose id Meshes' client already accepts (409: nothing to do).
 */
export async function rekeyOrganization(db: Db, id: string): Promise<{ id: string; previous_id: string; name: string }> {
  if (!anyUuid.test(id)) throw new NotFoundError(`Organization ${id} not found.`);
  return inTransaction(db, async (trx) => {
    const organization = await lockOrganization(trx, id);
    if (organization === undefined) throw new NotFoundError(`Organization ${id} not found.`);
    if (meshesOrganizationId.test(organization.id)) {
      throw new ConflictError(
        `Organization ${organization.id} already has an id Meshes' clients accept (UUID version 1–5); nothing was changed.`,
      );
    }
    const newId = randomUUID();
    await changeOrganizationId(trx, organization.id, newId);
    return { id: newId, previous_id: organization.id, name: organization.name };
  });
}

/** Creates an access key; the returned secret is the only copy in the clear (it is stored encrypted). */
export async function createAccessKey(
  db: Db,
  secretBox: SecretBox,
  organizationId: string,
  name: string,
): Promise<{ accessKey: string; secretKey: string; organizationId: string }> {
  if (!(await organizationExists(db, organizationId))) throw new NotFoundError(`Organization ${organizationId} not found.`);
  const { accessKey, secretKey } = generateAccessKey();
  await insertAccessKey(db, {
    id: accessKey,
    organization_id: organizationId,
    name,
    secret_ciphertext: secretBox.seal(secretKey, secretContext.accessKey(accessKey)),
  });
  return { accessKey, secretKey, organizationId };
}
