import type pg from "pg";

/**
 * The `public` schema of a database as text that reads as SQL: each table with its columns, constraints,
 * indexes and triggers, then the functions, in name order. Built from the catalog (no `pg_dump`, which the
 * embedded PostgreSQL does not ship), so it reads the same on every supported PostgreSQL version: `schema.sql`
 * is this text for a freshly migrated database, and a test fails when the migrations and it disagree.
 * graphile-worker's own schema is its business and is left out.
 */
export async function describeSchema(client: Pick<pg.Pool, "query">): Promise<string> {
  const sections = [
    "-- The schema the migrations make, written by `pnpm --filter @switchyard/db run schema:write`.\n" +
      "-- Never edit it by hand: add a migration, then write it again (a test fails while they disagree).",
    ...(await tables(client)),
    ...(await functions(client)),
  ];
  return `${sections.join("\n\n")}\n`;
}

async function tables(client: Pick<pg.Pool, "query">): Promise<string[]> {
  const { rows } = await client.query<{ oid: number; name: string; columns: string[]; constraints: string[] | null }>(`
    select c.oid::int as oid, c.relname as name,
      array(
        select format('%I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
          case when a.attnotnull then ' not null' else '' end,
          coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
        from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        order by a.attnum
      ) as columns,
      array(
        select format('constraint %I %s', k.conname, pg_get_constraintdef(k.oid))
        from pg_constraint k where k.conrelid = c.oid and k.contype <> 'n' order by k.conname
      ) as constraints
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname not like 'kysely\\_%'
    order by c.relname`);
  const described: string[] = [];
  for (const table of rows) {
    const body = [...table.columns, ...(table.constraints ?? [])].map((line) => `  ${line}`).join(",\n");
    const extras = await indexesAndTriggers(client, table.oid);
    described.push([`create table ${table.name} (\n${body}\n);`, ...extras].join("\n"));
  }
  return described;
}

async function indexesAndTriggers(client: Pick<pg.Pool, "query">, tableOid: number): Promise<string[]> {
  const { rows } = await client.query<{ definition: string }>(
    `select definition from (
       select 1 as kind, i.relname as name, pg_get_indexdef(x.indexrelid) || ';' as definition
       from pg_index x join pg_class i on i.oid = x.indexrelid
       where x.indrelid = $1 and not exists (select from pg_constraint k where k.conindid = x.indexrelid)
       union all
       select 2, t.tgname, pg_get_triggerdef(t.oid) || ';' from pg_trigger t where t.tgrelid = $1 and not t.tgisinternal
     ) d order by kind, name`,
    [tableOid],
  );
  return rows.map((r) => r.definition);
}

async function functions(client: Pick<pg.Pool, "query">): Promise<string[]> {
  const { rows } = await client.query<{ definition: string }>(`
    select pg_get_functiondef(p.oid) as definition
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public'
    order by p.proname, pg_get_function_identity_arguments(p.oid)`);
  return rows.map((r) => `${r.definition.trimEnd()};`);
}
