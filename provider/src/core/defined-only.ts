/** T with each optional property absent rather than undefined (what definedOnly returns). */
export type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** The object without its undefined properties (a checked input never holds an explicit undefined). */
export function definedOnly<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Defined<T>;
}
