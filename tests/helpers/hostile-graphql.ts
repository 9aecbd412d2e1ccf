// Generates GraphQL requests from schema.graphql with hostile argument values, for the
// hostile-input campaign. Every object field and every argument of the schema is a
// "coordinate" (Type.field, Type.field.arg); the sweep builds, for each of them, requests
// that reach it through valid parents, so a field added to the schema is attacked without
// anyone listing it; random cases then mix hostile values anywhere in random selections.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  astFromValue,
  buildSchema,
  getNamedType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  print,
} from "graphql";
import { EnumName, enumArbitrary, type HostileValue, LONG_LIST, Repeated, scalarArbitrary, sizeOf, toJson, toLiteral } from "./hostile-values.ts";

/** Draws a value from an arbitrary built by `arb(...args)`, as fast-check's fc.gen() does, without its replay log. */
export type Draw = <T, A extends unknown[]>(arb: (...args: A) => fc.Arbitrary<T>, ...args: A) => T;

/** Captures fast-check's seeded random source, to draw many values from it in sequence. */
class RandomSource extends fc.Arbitrary<fc.Random> {
  generate(mrng: fc.Random): fc.Value<fc.Random> {
    return new fc.Value(mrng.clone(), undefined);
  }
  canShrinkWithoutContext(_v: unknown): _v is fc.Random {
    return false;
  }
  shrink(): fc.Stream<fc.Value<fc.Random>> {
    return fc.Stream.nil();
  }
}

export function seededDraw(seed: number): Draw {
  const [mrng] = fc.sample(new RandomSource(), { seed, numRuns: 1 });
  return (arb, ...args) => arb(...args).generate(mrng!, undefined).value;
}

export interface HostileCase {
  name: string;
  operation: "query" | "mutation" | "other";
  /** The JSON request body, as sent. */
  body: string;
  /** Coordinates selected (Type.field) and given a hostile value (Type.field.arg). */
  fields: string[];
  args: string[];
}

/** Values that pass coercion and resolve to seeded data, by coordinate (e.g. "Query.feature.saeId"). */
export type ValidValues = (coordinate: string, arg: GraphQLArgument) => HostileValue[];

export function loadSchema(): GraphQLSchema {
  return buildSchema(readFileSync(join(import.meta.dirname, "..", "..", "schema.graphql"), "utf8"));
}

const objectTypes = (schema: GraphQLSchema) =>
  Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith("__"));

/** Every field and argument coordinate of the schema's object types. */
export function schemaCoordinates(schema: GraphQLSchema): { fields: string[]; args: string[] } {
  const fields: string[] = [];
  const args: string[] = [];
  for (const t of objectTypes(schema))
    for (const f of Object.values(t.getFields())) {
      fields.push(`${t.name}.${f.name}`);
      for (const a of f.args) args.push(`${t.name}.${f.name}.${a.name}`);
    }
  return { fields, args };
}

interface Built {
  fields: Set<string>;
  args: Set<string>;
  vars: string[];
  values: string[];
  big: boolean;
}

export class CaseBuilder {
  /** The shortest chain of fields from a root type to each object type. */
  private readonly paths = new Map<string, { type: GraphQLObjectType; field: GraphQLField<unknown, unknown> }[]>();

  constructor(
    readonly schema: GraphQLSchema,
    private readonly valid: ValidValues,
  ) {
    const roots = [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => !!t);
    const queue: GraphQLObjectType[] = [];
    for (const r of roots) {
      this.paths.set(r.name, []);
      queue.push(r);
    }
    while (queue.length) {
      const t = queue.shift()!;
      for (const f of Object.values(t.getFields())) {
        const n = getNamedType(f.type);
        if (isObjectType(n) && !this.paths.has(n.name)) {
          this.paths.set(n.name, [...this.paths.get(t.name)!, { type: t, field: f }]);
          queue.push(n);
        }
      }
    }
  }

  /**
   * One hostile value for an input type. typeValid keeps to values that get past coercion and
   * the checks before execution (no NUL, no 10^6-long list, no Int large enough for the cost
   * limit to refuse), so that resolvers see them.
   */
  hostile(g: Draw, type: GraphQLInputType, coordinate: string, arg: GraphQLArgument, typeValid: boolean, b: Built): HostileValue {
    if (isNonNullType(type)) {
      if (!typeValid && g(fc.integer, { min: 0, max: 19 }) === 0) return null;
      return this.hostile(g, type.ofType, coordinate, arg, typeValid, b);
    }
    if (isListType(type)) {
      const inner = type.ofType as GraphQLInputType;
      const shape = g(fc.integer, { min: 0, max: typeValid ? 2 : 6 });
      const valid = this.valid(coordinate, arg).find(Array.isArray) as HostileValue[] | undefined;
      if (shape === 0) return [];
      if (shape === 1) return [this.hostile(g, inner, coordinate, arg, typeValid, b)];
      if (shape === 2) return [...(valid ?? []), this.hostile(g, inner, coordinate, arg, typeValid, b)];
      if (shape === 3 && !b.big) {
        b.big = true;
        return new Repeated(smallItem(inner), LONG_LIST);
      }
      if (shape === 4) return [null];
      if (shape === 5) return [[this.hostile(g, inner, coordinate, arg, typeValid, b)]];
      return this.hostile(g, inner, coordinate, arg, typeValid, b);
    }
    if (isEnumType(type)) {
      if (typeValid) return new EnumName(g(fc.constantFrom, ...type.getValues().map((e) => e.name)));
      return g(() => enumArbitrary(type));
    }
    if (isInputObjectType(type)) {
      const out: Record<string, HostileValue> = {};
      for (const f of Object.values(type.getFields()))
        if (g(fc.boolean)) out[f.name] = this.hostile(g, f.type, `${coordinate}.${f.name}`, arg, typeValid, b);
      if (!typeValid && g(fc.integer, { min: 0, max: 3 }) === 0) out[g(fc.constantFrom, "bogus", "__proto__", "constructor")] = 1;
      return out;
    }
    const valid = this.valid(coordinate, arg).flat();
    for (;;) {
      const v = g(() => scalarArbitrary(getNamedType(type).name, valid));
      if (typeValid && !reachesResolvers(getNamedType(type).name, v)) continue;
      if (sizeOf(v) > 100_000) {
        if (b.big) continue;
        b.big = true;
      }
      return v;
    }
  }

  /** Writes one argument: a literal, a variable, or a variable whose default is the hostile value. */
  private writeArg(g: Draw, arg: GraphQLArgument, value: HostileValue, b: Built): string {
    const literal = sizeOf(value) < 200_000 ? toLiteral(value) : null;
    const mode = g(fc.integer, { min: 0, max: 3 });
    if (literal !== null && mode === 0) return `${arg.name}: ${literal}`;
    const v = `$v${b.vars.length}`;
    if (literal !== null && mode === 1) b.vars.push(`${v}: ${String(arg.type)} = ${literal}`);
    else {
      const ast = arg.defaultValue !== undefined ? astFromValue(arg.defaultValue, arg.type) : null;
      const fallback = ast ? print(ast) : null;
      b.vars.push(mode === 2 && fallback !== null ? `${v}: ${String(arg.type)} = ${fallback}` : `${v}: ${String(arg.type)}`);
      b.values.push(`${JSON.stringify(v.slice(1))}:${toJson(value)}`);
    }
    return `${arg.name}: ${v}`;
  }

  /** Arguments of a field: the targeted ones hostile, the others valid (or left to their defaults). */
  private args(g: Draw, owner: string, f: GraphQLField<unknown, unknown>, hostile: "all" | "some" | "none" | string, b: Built, typeValid: boolean): string {
    const parts: string[] = [];
    for (const a of f.args) {
      const coordinate = `${owner}.${f.name}.${a.name}`;
      const attack = hostile === "all" || hostile === a.name || (hostile === "some" && g(fc.boolean));
      const valid = this.valid(coordinate, a);
      if (attack) {
        b.args.add(coordinate);
        parts.push(this.writeArg(g, a, this.hostile(g, a.type, coordinate, a, typeValid, b), b));
      } else if (valid.length) parts.push(this.writeArg(g, a, g(fc.constantFrom, ...valid), b));
      else if (isNonNullType(a.type) && a.defaultValue === undefined) {
        b.args.add(coordinate);
        parts.push(this.writeArg(g, a, this.hostile(g, a.type, coordinate, a, true, b), b));
      }
    }
    return parts.length ? `(${parts.join(", ")})` : "";
  }

  /** A selection set on an object type: random fields (all of them when `all`), nested to `depth`. */
  private select(g: Draw, type: GraphQLObjectType, depth: number, b: Built, o: { all?: boolean; hostile: boolean }): string {
    const fields = Object.values(type.getFields());
    const chosen = o.all ? fields : g(fc.subarray, fields, { minLength: 1, maxLength: Math.min(4, fields.length) });
    const parts: string[] = [];
    for (const f of chosen) {
      const sub = getNamedType(f.type);
      if (isObjectType(sub) && depth <= 0) continue;
      b.fields.add(`${type.name}.${f.name}`);
      const args = this.args(g, type.name, f, o.hostile ? "some" : "none", b, false);
      parts.push(isObjectType(sub) ? `${f.name}${args} { ${this.select(g, sub, depth - 1, b, { hostile: o.hostile })} }` : `${f.name}${args}`);
    }
    if (!parts.length) parts.push(this.leaf(type, b));
    return parts.join(" ");
  }

  /** The smallest selection that is valid on a type. */
  private leaf(type: GraphQLObjectType, b: Built): string {
    const fields = Object.values(type.getFields());
    const scalar = fields.find((f) => isLeafType(getNamedType(f.type)) && f.args.length === 0) ?? fields.find((f) => isLeafType(getNamedType(f.type)));
    const f = scalar ?? fields[0]!;
    b.fields.add(`${type.name}.${f.name}`);
    const sub = getNamedType(f.type);
    return isObjectType(sub) ? `${f.name} { ${this.leaf(sub, b)} }` : f.name;
  }

  private finish(name: string, op: "query" | "mutation", selection: string, b: Built): HostileCase {
    const vars = b.vars.length ? `(${b.vars.join(", ")})` : "";
    const query = `${op} Campaign${vars} { ${selection} }`;
    const body = `{"query":${JSON.stringify(query)}${b.values.length ? `,"variables":{${b.values.join(",")}}` : ""}}`;
    return { name, operation: op, body, fields: [...b.fields], args: [...b.args] };
  }

  /** A request that reaches `type` through valid parents and then selects `inner` on it. */
  private reach(g: Draw, type: GraphQLObjectType, b: Built, inner: () => string): { op: "query" | "mutation"; selection: string } {
    const path = this.paths.get(type.name)!;
    let selection = inner();
    for (let i = path.length - 1; i >= 0; i--) {
      const { type: owner, field } = path[i]!;
      b.fields.add(`${owner.name}.${field.name}`);
      selection = `${field.name}${this.args(g, owner.name, field, "none", b, true)} { ${selection} }`;
    }
    const root = path[0]?.type ?? type;
    return { op: root === this.schema.getMutationType() ? "mutation" : "query", selection };
  }

  /** Cases that give every argument hostile values (`perArg` of them, the first always type-valid) and select every field. */
  *sweep(g: Draw, perArg: number): Generator<HostileCase> {
    const blank = (): Built => ({ fields: new Set(), args: new Set(), vars: [], values: [], big: false });
    for (const type of objectTypes(this.schema)) {
      const b = blank();
      const { op, selection } = this.reach(g, type, b, () => this.select(g, type, 1, b, { all: true, hostile: false }));
      yield this.finish(`every field of ${type.name}`, op, selection, b);
      for (const f of Object.values(type.getFields()))
        for (const a of f.args)
          for (let i = 0; i < perArg; i++) {
            const b2 = blank();
            const sub = getNamedType(f.type);
            const r = this.reach(g, type, b2, () => {
              b2.fields.add(`${type.name}.${f.name}`);
              const args = this.args(g, type.name, f, a.name, b2, i === 0);
              return isObjectType(sub) ? `${f.name}${args} { ${this.leaf(sub, b2)} }` : `${f.name}${args}`;
            });
            yield this.finish(`${type.name}.${f.name}.${a.name} #${i}`, r.op, r.selection, b2);
          }
    }
  }

  /** A random request: a root field, hostile values anywhere, a random selection up to `maxDepth`. */
  random(g: Draw, maxDepth: number): HostileCase {
    const b: Built = { fields: new Set(), args: new Set(), vars: [], values: [], big: false };
    const root = g(fc.constantFrom, this.schema.getQueryType()!, this.schema.getMutationType()!);
    const selection = this.select(g, root, g(fc.integer, { min: 1, max: maxDepth }), b, { hostile: true });
    return this.finish(`random ${root.name}`, root === this.schema.getMutationType() ? "mutation" : "query", selection, b);
  }
}

/** Whether a scalar value passes graphql-js input coercion and the server's checks before execution. */
function reachesResolvers(name: string, v: HostileValue): boolean {
  if (typeof v === "string" && v.includes("\u0000")) return false;
  if (name === "Int") return typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= 10_000;
  if (name === "Float") return typeof v === "number" && Number.isFinite(v);
  if (name === "Boolean") return typeof v === "boolean";
  if (name === "ID") return typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
  return typeof v === "string";
}

/** A short valid item for a 10^6-long list (kept small so the body stays under the server's limit). */
function smallItem(type: GraphQLInputType): HostileValue {
  const t = getNamedType(type);
  if (isEnumType(t)) return new EnumName(t.getValues()[0]!.name);
  if (isInputObjectType(t)) return {};
  return t.name === "Int" || t.name === "Float" ? 1 : t.name === "Boolean" ? true : "a";
}
