// Rewrites an ONNX model with extra graph outputs, so ONNX Runtime returns an intermediate
// tensor (a residual stream) alongside the logits. Everything else in the file, initializers
// included, is copied byte for byte: a 500 MB GPT-2 is spliced, never re-encoded.
import { findGraph } from "./onnx-graph.ts";

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  const head = [...varintBytes(field * 8 + 2), ...varintBytes(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** A ValueInfoProto naming the tensor and its element type, shape left open. */
function encodeOutput(name: string, elemType: number): Uint8Array {
  const tensorType = Uint8Array.from([0x08, ...varintBytes(elemType)]); // Tensor.elem_type
  const typeProto = lengthDelimited(1, tensorType); // TypeProto.tensor_type
  const nameField = lengthDelimited(1, new TextEncoder().encode(name));
  const typeField = lengthDelimited(2, typeProto);
  const out = new Uint8Array(nameField.length + typeField.length);
  out.set(nameField, 0);
  out.set(typeField, nameField.length);
  return out;
}

/** The model with these tensors appended to graph.output (one copy of the file). */
export function addGraphOutputs(buf: Uint8Array, outputs: readonly { name: string; elemType: number }[]): Uint8Array {
  if (outputs.length === 0) return buf;
  const [tagStart, start, end] = findGraph(buf);
  const extra = outputs.map((o) => lengthDelimited(12, encodeOutput(o.name, o.elemType)));
  const extraLen = extra.reduce((s, e) => s + e.length, 0);
  const graphLen = end - start + extraLen;
  const head = Uint8Array.from([...varintBytes(7 * 8 + 2), ...varintBytes(graphLen)]);
  const out = new Uint8Array(tagStart + head.length + graphLen + (buf.length - end));
  let o = 0;
  out.set(buf.subarray(0, tagStart), o);
  o += tagStart;
  out.set(head, o);
  o += head.length;
  out.set(buf.subarray(start, end), o);
  o += end - start;
  for (const e of extra) {
    out.set(e, o);
    o += e.length;
  }
  out.set(buf.subarray(end), o);
  return out;
}
