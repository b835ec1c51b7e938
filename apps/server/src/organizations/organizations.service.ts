import type { Db } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { generateAccessKey } from "../auth/credentials.js";
import { NotFoundError } from "../http/errors.js";
import { uuidv7 } from "../ids.js";
import { insertAccessKey } from "./accessKeys.repository.js";
import { insertOrganization, organizationExists } from "./organizations.repository.js";

export async function createOrganization(db: Db, name: string): Promise<{ id: string; name: string; created_at: Date }> {
  return insertOrganization(db, { id: uuidv7(), name });
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
