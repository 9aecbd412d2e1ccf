// A minimal ONNX protobuf encoder: just enough of ModelProto / GraphProto / NodeProto /
// ValueInfoProto / TensorProto to describe the few tiny graphs the kernel runs. Writing the
// ~100 lines here avoids a protobuf runtime and a generated onnx.proto binding.
// Field numbers follow onnx/onnx.proto (IR version 8, opset 17).

export const OnnxType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
export type OnnxType = (typeof OnnxType)[keyof typeof OnnxType];

/** A tensor dimension: a fixed size or a symbolic name (resolved per run). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: OnnxType;
  dims: Dim[];
}

export type AttrValue = { kind: "int"; value: number } | { kind: "float"; value: number } | { kind: "ints"; value: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  /** The node's name in the file (default: op_index); test models use exporters' names. */
  name?: string;
}

export interface Initializer {
  name: string;
  type: OnnxType;
  dims: number[];
  /** Small int64 constants. */
  int64s?: number[];
  /** Little-endian element bytes (any type): large weights, e.g. a decoder matrix. */
  raw?: Uint8Array;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: Initializer[];
}

class Writer {
  // Small fields accumulate in `cur`; large byte payloads (initializer data) are kept as their
  // own chunks so a 100 MB tensor is copied once per nesting level, not pushed byte by byte.
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];
  private size = 0;

  private flush(): void {
    if (this.cur.length) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }

  private push(x: number): void {
    this.cur.push(x);
    this.size++;
  }

  varint(v: number | bigint): this {
    // Negative int64 values are encoded as 10-byte two's complement.
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.push(Number(x));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.push(x);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    if (b.length < 256) {
      for (const x of b) this.push(x);
    } else {
      this.flush();
      this.chunks.push(b);
      this.size += b.length;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

// AttributeProto.type enum values
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

function writeNode(w: Writer, n: NodeSpec, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op.toLowerCase()}_${index}`);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) {
    w.message(5, (attr) => {
      attr.string(1, name);
      if (a.kind === "int") attr.int(3, a.value).int(20, ATTR_INT);
      else if (a.kind === "float") attr.float(2, a.value).int(20, ATTR_FLOAT);
      else {
        for (const x of a.value) attr.int(8, x);
        attr.int(20, ATTR_INTS);
      }
    });
  }
}

/** Serialises a graph as an ONNX ModelProto (bytes ready for InferenceSession.create). */
export function encodeModel(g: GraphSpec, opset = 17): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, "monoscope-kernel"); // producer_name
  w.message(7, (graph) => {
    g.nodes.forEach((n, i) => graph.message(1, (node) => writeNode(node, n, i)));
    graph.string(2, g.name);
    for (const init of g.initializers ?? []) {
      graph.message(5, (t) => {
        for (const d of init.dims) t.int(1, d);
        t.int(2, init.type);
        for (const x of init.int64s ?? []) t.int(7, x);
        t.string(8, init.name);
        if (init.raw) t.bytes(9, init.raw);
      });
    }
    for (const i of g.inputs) graph.message(11, (v) => writeValueInfo(v, i));
    for (const o of g.outputs) graph.message(12, (v) => writeValueInfo(v, o));
  });
  w.message(8, (op) => op.string(1, "").int(2, opset));
  return w.finish();
}

export const int = (value: number): AttrValue => ({ kind: "int", value });
export const float = (value: number): AttrValue => ({ kind: "float", value });
export const ints = (value: number[]): AttrValue => ({ kind: "ints", value });
