// get_all_records_where's expression language, pure (xen-api ocaml/database/db_filter_parse.mly).
import {
  evalFilter,
  fieldOfColumn,
  parseFilter,
  storedString,
} from "xen-sandbox/dist/xapi/classes/db-filter";

const columns: Record<string, string> = { power_state: "Running", is_a_template: "false" };
const lookup = (column: string) => columns[column] ?? "";

test.each([
  ['field "power_state" = "Running"', true],
  ['"Running" = field "power_state"', true],
  ['not field "is_a_template" = "false"', false],
  ['field "power_state" = "Halted" or field "is_a_template" = "false"', true],
  ['true and (false or field "power_state" = "Running")', true],
  ["false", false],
])("%s is %s", (expr, expected) => {
  expect(evalFilter(parseFilter(expr), lookup)).toBe(expected);
});

test.each(['field "x" =', "field x", '"a" = "b" "c"', "(true", "maybe"])("%s does not parse", (expr) => {
  expect(() => parseFilter(expr)).toThrow();
});

test("values compare as the database stores them: sets and maps as s-expressions", () => {
  expect(storedString(true)).toBe("true");
  expect(storedString(12)).toBe("12");
  expect(storedString(["a", "b"])).toBe("('a' 'b')");
  expect(storedString({ k: "v" })).toBe("(('k' 'v'))");
});

test("namespaced fields are named by their column, name__label; a plain name_label is no column", () => {
  const fields = ["name_label", "power_state", "memory_static_max"];
  expect(fieldOfColumn("VM", "name__label", fields)).toBe("name_label");
  expect(fieldOfColumn("VM", "memory__static_max", fields)).toBe("memory_static_max");
  expect(fieldOfColumn("VM", "name_label", fields)).toBeUndefined();
  expect(fieldOfColumn("VM", "power_state", fields)).toBe("power_state");
  expect(fieldOfColumn("VM", "nope", fields)).toBeUndefined();
});
