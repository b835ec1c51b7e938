import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The key that encrypts secrets at rest when `SWITCHYARD_ENCRYPTION_KEY` is not set: kept in
 * `<dataDir>/encryption.key` (mode 0600), created on first use.
 */
export async function loadOrCreateKeyFile(dataDir: string): Promise<{ key: Buffer; created: boolean }> {
  const file = join(dataDir, "encryption.key");
  try {
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return { key, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const key = randomBytes(32);
  // "wx": never overwrite a key another process has just written.
  await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  return { key, created: true };
}
