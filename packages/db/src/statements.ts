import { readFileSync } from "node:fs";
import type pg from "pg";

/**
 * What the hot statements run on: a pg pool (or a client). They run prepared by name, so each pooled connection
 * plans them once instead of at every call (their plans cost about as much as their work at the sizes they see;
 * Kysely cannot name a statement).
 */
export type StatementRunner = Pick<pg.Pool, "query">;

/** A hot statement, read from its file in `sql/` once, at start, and prepared by name on each connection. */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

const sqlFolder = new URL("../sql/", import.meta.url);

/** The statement in `sql/<file>.sql`, named `switchyard_<file>`. */
export function preparedStatement(file: string): PreparedStatement {
  return { name: `switchyard_${file}`, text: readFileSync(new URL(`${file}.sql`, sqlFolder), "utf8") };
}

/** Runs `statement` with `values`, prepared by name, and answers its rows. */
export async function runStatement<Row extends pg.QueryResultRow>(
  runner: StatementRunner,
  statement: PreparedStatement,
  values: readonly unknown[],
): Promise<Row[]> {
  const result = await runner.query<Row>({ name: statement.name, text: statement.text, values: [...values] });
  return result.rows;
}
