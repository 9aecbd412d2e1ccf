// Hostile values for GraphQL input types, and how to write them: as a GraphQL literal in the
// document, or as JSON in the variables (raw JSON tokens such as 1e999 that JSON.stringify
// cannot produce included). Values that are not valid for their type on purpose are here
// too: the server must refuse them with a request error, never a 5xx.
import fc from "fast-check";
import type { GraphQLEnumType } from "graphql";

/** A JSON token written verbatim (1e999 parses to Infinity on the server). */
export class RawJson {
  constructor(readonly text: string) {}
}
/** An enum value: a bare name in a literal, a string in JSON. */
export class EnumName {
  constructor(readonly name: string) {}
}
/** A list written as `[x, x, ...]` n times without building it (10^6-long lists). */
export class Repeated {
  constructor(readonly item: HostileValue, readonly n: number) {}
}
export type HostileValue = null | boolean | number | string | RawJson | EnumName | Repeated | HostileValue[] | { [k: string]: HostileValue };

export const MIB_STRING = "x".repeat(1 << 20);
export const LONG_LIST = 1_000_000;

const STRINGS: string[] = [
  "",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "x\uDFFFy",
  "\uDBFF\uDFFF",
  "NaN",
  "Infinity",
  "-Infinity",
  "9007199254740993",
  "-0",
  "%00",
  "%252F..%2F",
  "../../etc/passwd",
  "' OR 1=1 --",
  "$1; DROP TABLE sae; --",
  "\\",
  '"}',
  "\r\n\t",
  "\u202Eevil",
  "e\u0301\u0301\u0301",
  "👾".repeat(64),
  ":",
  "a:b:3",
  " ",
  "null",
  "__proto__",
];

const INTS: number[] = [0, -1, 1, -2147483648, 2147483647, 1000, 1001, 1_000_000];
/** Not valid Int values: the server refuses them while coercing. */
const BAD_INTS: HostileValue[] = [2147483648, 2 ** 53, -(2 ** 53), 1.5, "NaN", "1", new RawJson("1e999"), true];
const FLOATS: number[] = [0, -1, 1, 0.5, 5e-324, 1e-300, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 3.4028236e38, 1e39];
const BAD_FLOATS: HostileValue[] = ["NaN", "Infinity", "-Infinity", new RawJson("1e999"), new RawJson("-1e999"), "0x10", false];

/** Hostile values for a named input type; `valid` are values that pass type coercion. */
export function scalarArbitrary(name: string, valid: HostileValue[]): fc.Arbitrary<HostileValue> {
  const base: fc.Arbitrary<HostileValue>[] = [];
  const pick = (xs: HostileValue[]) => fc.constantFrom(...xs);
  switch (name) {
    case "Int":
      base.push(pick(INTS), fc.integer(), pick(BAD_INTS));
      break;
    case "Float":
      base.push(pick(FLOATS), fc.double({ noNaN: true, noDefaultInfinity: true }), pick(BAD_FLOATS));
      break;
    case "Boolean":
      base.push(fc.boolean(), pick(["true", 0, 1]));
      break;
    default: // String, ID
      base.push(
        pick(STRINGS),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.constant(MIB_STRING),
        ...(valid.length ? [pick(valid.filter((v) => typeof v === "string")).map((v) => `${v}\u0000`), pick(valid).map((v) => `${v}:1`)] : []),
        ...(name === "ID" ? [pick(INTS), pick([2 ** 53, 1e308])] : []),
      );
  }
  return fc.oneof(...base);
}

export function enumArbitrary(type: GraphQLEnumType): fc.Arbitrary<HostileValue> {
  const names = type.getValues().map((v) => v.name);
  return fc.oneof(
    fc.constantFrom(...names).map((n) => new EnumName(n)),
    fc.constantFrom(...names).map((n) => new EnumName(n.toLowerCase())),
    fc.constantFrom("NOPE", "__typename", "true", "null").map((n) => new EnumName(n)),
    fc.constantFrom(...names),
  );
}

/** Written as a GraphQL literal (const value), or null when it cannot be one. */
export function toLiteral(v: HostileValue): string | null {
  if (v === null) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : null;
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof RawJson) return v.text;
  if (v instanceof EnumName) return /^[_A-Za-z][_0-9A-Za-z]*$/.test(v.name) ? v.name : null;
  if (v instanceof Repeated) {
    const item = toLiteral(v.item);
    return item === null ? null : `[${new Array(v.n).fill(item).join(",")}]`;
  }
  if (Array.isArray(v)) {
    const items = v.map(toLiteral);
    return items.includes(null) ? null : `[${items.join(", ")}]`;
  }
  const fields = Object.entries(v).map(([k, x]) => [k, toLiteral(x)] as const);
  if (fields.some(([k, x]) => x === null || !/^[_A-Za-z][_0-9A-Za-z]*$/.test(k))) return null;
  return `{${fields.map(([k, x]) => `${k}: ${x}`).join(", ")}}`;
}

/** Written as JSON text (a variable's value). */
export function toJson(v: HostileValue): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof EnumName) return JSON.stringify(v.name);
  if (v instanceof Repeated) return `[${new Array(v.n).fill(toJson(v.item)).join(",")}]`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

/** Rough size in bytes once written, to keep the few huge values rare per request. */
export function sizeOf(v: HostileValue): number {
  if (v instanceof Repeated) return v.n * (1 + sizeOf(v.item));
  if (Array.isArray(v)) return 2 + v.reduce<number>((s, x) => s + 1 + sizeOf(x), 0);
  if (v !== null && typeof v === "object" && !(v instanceof RawJson) && !(v instanceof EnumName))
    return 2 + Object.entries(v).reduce((s, [k, x]) => s + k.length + 4 + sizeOf(x), 0);
  return typeof v === "string" ? v.length + 2 : 8;
}
