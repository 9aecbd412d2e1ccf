// Reads just enough of an ONNX ModelProto to find tensors by name: the graph's nodes, inputs,
// outputs and the element type of every tensor whose type the file records (initializers are
// skipped by length, never decoded). Field numbers are those of onnx/onnx.proto. Subgraphs
// (If/Loop bodies) are not indexed: their tensors cannot be graph outputs anyway.
// onnx-graph-outputs.ts rewrites the model with extra outputs.

/** TensorProto.DataType values this module names. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

export interface GraphNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Cast's "to" attribute (the output's element type), when the node is a Cast. */
  castTo?: number;
}

export interface GraphValue {
  name: string;
  /** TensorProto.DataType; 0 when the file leaves it out. */
  elemType: number;
  /** A fixed size, a symbolic name, or null for an unknown dimension. */
  dims: (number | string | null)[];
}

export interface GraphIndex {
  inputs: GraphValue[];
  outputs: GraphValue[];
  nodes: GraphNode[];
  /** Initializer name -> element type. */
  initializers: Map<string, number>;
  /** value_info entries (intermediate tensors whose type the exporter recorded). */
  valueInfo: Map<string, GraphValue>;
  /** Whether any initializer keeps its bytes in a separate file. */
  externalData: boolean;
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      // Multiplication rather than shifts: lengths and int64 values beyond 2^31 stay exact up to 2^53.
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error("varint longer than 10 bytes");
  }

  /** Reads a tag; returns [field, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }

  /** The [start, end) span of a length-delimited field's payload; moves past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error("length-delimited field runs past its message");
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.span();
    return new TextDecoder().decode(this.buf.subarray(s, e));
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.span();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) throw new Error("field runs past its message");
  }

  sub(span: [number, number]): Reader {
    return new Reader(this.buf, span[0], span[1]);
  }
}

function readValueInfo(r: Reader): GraphValue {
  const v: GraphValue = { name: "", elemType: 0, dims: [] };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) v.name = r.string();
    else if (f === 2 && w === 2) readTypeProto(r.sub(r.span()), v);
    else r.skip(w);
  }
  return v;
}

function readTypeProto(r: Reader, v: GraphValue): void {
  while (r.more()) {
    const [f, w] = r.tag();
    if (f !== 1 || w !== 2) {
      r.skip(w);
      continue;
    }
    const t = r.sub(r.span()); // TypeProto.Tensor
    while (t.more()) {
      const [tf, tw] = t.tag();
      if (tf === 1 && tw === 0) v.elemType = t.varint();
      else if (tf === 2 && tw === 2) {
        const shape = t.sub(t.span());
        while (shape.more()) {
          const [sf, sw] = shape.tag();
          if (sf !== 1 || sw !== 2) {
            shape.skip(sw);
            continue;
          }
          const dim = shape.sub(shape.span());
          let d: number | string | null = null;
          while (dim.more()) {
            const [df, dw] = dim.tag();
            if (df === 1 && dw === 0) d = dim.varint();
            else if (df === 2 && dw === 2) d = dim.string();
            else dim.skip(dw);
          }
          v.dims.push(d);
        }
      } else t.skip(tw);
    }
  }
}

function readAttributeInt(r: Reader): { name: string; i: number | undefined } {
  let name = "";
  let i: number | undefined;
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) name = r.string();
    else if (f === 3 && w === 0) i = r.varint();
    else r.skip(w);
  }
  return { name, i };
}

function readNode(r: Reader): GraphNode {
  const n: GraphNode = { name: "", opType: "", inputs: [], outputs: [] };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) n.inputs.push(r.string());
    else if (f === 2 && w === 2) n.outputs.push(r.string());
    else if (f === 3 && w === 2) n.name = r.string();
    else if (f === 4 && w === 2) n.opType = r.string();
    else if (f === 5 && w === 2) {
      const a = readAttributeInt(r.sub(r.span()));
      if (a.name === "to" && a.i !== undefined) n.castTo = a.i;
    } else r.skip(w);
  }
  return n;
}

/** An initializer's name and type; flags external data (TensorProto.external_data / data_location). */
function readInitializer(r: Reader): { name: string; elemType: number; external: boolean } {
  let name = "";
  let elemType = 0;
  let external = false;
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 8 && w === 2) name = r.string();
    else if (f === 2 && w === 0) elemType = r.varint();
    else if (f === 13 && w === 2) {
      external = true;
      r.skip(w);
    } else if (f === 14 && w === 0) external = r.varint() === 1 || external;
    else r.skip(w);
  }
  return { name, elemType, external };
}

/** Where ModelProto.graph sits in the file: [tagStart, payloadStart, payloadEnd). */
export function findGraph(buf: Uint8Array): [number, number, number] {
  const r = new Reader(buf);
  let found: [number, number, number] | null = null;
  while (r.more()) {
    const tagStart = r.pos;
    const [f, w] = r.tag();
    if (f === 7 && w === 2) {
      if (found) throw new Error("the model has more than one graph field");
      const [s, e] = r.span();
      found = [tagStart, s, e];
    } else r.skip(w);
  }
  if (!found) throw new Error("no graph in the model (is this an ONNX file?)");
  return found;
}

/** Parses the graph's nodes, inputs, outputs, initializer types and value_info. */
export function indexGraph(buf: Uint8Array): GraphIndex {
  const [, start, end] = findGraph(buf);
  const r = new Reader(buf, start, end);
  const g: GraphIndex = { inputs: [], outputs: [], nodes: [], initializers: new Map(), valueInfo: new Map(), externalData: false };
  while (r.more()) {
    const [f, w] = r.tag();
    if (w !== 2) {
      r.skip(w);
      continue;
    }
    const sub = r.sub(r.span());
    if (f === 1) g.nodes.push(readNode(sub));
    else if (f === 5) {
      const init = readInitializer(sub);
      g.initializers.set(init.name, init.elemType);
      g.externalData ||= init.external;
    } else if (f === 11) g.inputs.push(readValueInfo(sub));
    else if (f === 12) g.outputs.push(readValueInfo(sub));
    else if (f === 13) {
      const v = readValueInfo(sub);
      g.valueInfo.set(v.name, v);
    }
  }
  return g;
}

// Ops whose output type is fixed whatever their inputs are.
const INT64_OPS = new Set(["Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression"]);
const BOOL_OPS = new Set(["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf"]);

/**
 * The element type of a tensor: recorded in the file, or followed back through its producers
 * (most ops keep their first input's type). 0 when it cannot be told.
 */
export function elemTypeOf(g: GraphIndex, tensor: string): number {
  const producers = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producers.set(o, n);
  const known = (name: string): number | undefined =>
    g.valueInfo.get(name)?.elemType || g.inputs.find((v) => v.name === name)?.elemType || g.outputs.find((v) => v.name === name)?.elemType || g.initializers.get(name) || undefined;
  let name = tensor;
  for (let hops = 0; hops < 10_000; hops++) {
    const t = known(name);
    if (t) return t;
    const n = producers.get(name);
    if (!n) return 0;
    if (n.opType === "Cast" && n.castTo) return n.castTo;
    if (INT64_OPS.has(n.opType)) return ElemType.INT64;
    if (BOOL_OPS.has(n.opType)) return ElemType.BOOL;
    // Where(cond, x, y) takes its type from x; DequantizeLinear yields float.
    if (n.opType === "DequantizeLinear") return ElemType.FLOAT;
    const next = n.opType === "Where" ? n.inputs[1] : n.inputs.find((i) => i.length > 0);
    if (!next) return 0;
    name = next;
  }
  return 0;
}
