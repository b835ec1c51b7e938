import type { MappingSchema } from "@switchyard/client";
import type { ErrorDetail } from "@switchyard/event-intake";

/**
 * What a mapping must satisfy beyond its schema in the spec (which the validator has checked): each destination
 * field is written once, so `dest` is unique. Every problem, as the error envelope's `data`.
 */
export function mappingProblems(schema: MappingSchema): ErrorDetail[] {
  const firstIndex = new Map<string, number>();
  const problems: ErrorDetail[] = [];
  schema.fields.forEach((field, index) => {
    const first = firstIndex.get(field.dest);
    if (first === undefined) firstIndex.set(field.dest, index);
    else problems.push({ param: `schema.fields.${index}.dest`, msg: `repeats the dest of schema.fields.${first} (${field.dest})` });
  });
  return problems;
}
