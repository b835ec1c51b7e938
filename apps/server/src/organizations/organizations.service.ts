import { randomUUID } from "node:crypto";
import type { Db } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { generateAccessKey } from "../auth/credentials.js";
import { NotFoundError } from "../http/errors.js";
import { insertAccessKey } from "./accessKeys.repository.js";
import { insertOrganization, organizationExists } from "./organizations.repository.js";

/**
 * Organization ids are UUIDv4, not v7 like every other id: Meshes' API client (and so its MCP server) refuses an
 * organization id whose version is not 1–5. Organizations are few and never scanned by id order.
 */
export async function createOrganization(db: Db, name: string): Promise<{ id: string; name: string; created_at: Date }> {
  return insertOrganization(db, { id: randomUUID(), name });
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
