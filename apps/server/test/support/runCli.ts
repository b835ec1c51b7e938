import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const serverDir = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The built CLI (`dist/cli.js`) on `databaseUrl`, its data in `dataDir`, with no first-run bootstrap and `env`
 * over the rest: its exit code and output (a failure is a result, not a rejection).
 */
export async function runCli(
  options: { readonly databaseUrl: string; readonly dataDir: string; readonly env?: Readonly<Record<string, string>> },
  ...args: string[]
): Promise<CliResult> {
  const env = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    SWITCHYARD_DATA_DIR: options.dataDir,
    SWITCHYARD_BOOTSTRAP: "false",
    ...options.env,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ["dist/cli.js", ...args], { cwd: serverDir, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
