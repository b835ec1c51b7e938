/**
 * `{[key]: value}`, or nothing when the value is unset (null or undefined), to spread into an answer: Meshes'
 * clients declare such fields optional (`key?: T`), so an answer leaves them out rather than sending null.
 */
export function optionalField<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return value === null || value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
