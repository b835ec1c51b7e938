import { execFileSync } from "node:child_process";

/**
 * Which code was measured: the commit, and whether the server's sources (or what it depends on) had
 * uncommitted changes. The server changes quickly; figures without this cannot be compared later.
 */
export function sourceRevision(repoRoot: string): string {
  const git = (...args: string[]) => execFileSync("git", ["-C", repoRoot, ...args], { encoding: "utf8" }).trim();
  try {
    const commit = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--", "apps/server", "packages", "openapi") !== "";
    return dirty ? `${commit} + uncommitted changes to the server or its packages` : commit;
  } catch {
    return "unknown (not a git checkout)";
  }
}
