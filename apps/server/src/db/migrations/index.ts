import type { Migration } from "kysely/migration";
import * as initial from "./0001_initial.js";

/** Every migration, in order. Forward-only: a landed migration is never edited; add a new one. */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  "0001_initial": initial,
});
