// GPT-2 style byte-level BPE token strings -> readable text. Tokenizers map every byte
// to a printable character (bytes_to_unicode: "Ġ" is a space, "Ċ" a newline, "âĢĻ" the
// three UTF-8 bytes of "’"), and a multi-byte character may be split across tokens
// ("âĢ" + "Ļ"). We map characters back to bytes and decode UTF-8 across token
// boundaries, so each token gets the characters that end inside it and the tokens
// still concatenate to the text. Characters outside the byte table (a real space, an
// already-decoded "’") stand for their own UTF-8 bytes, so half-decoded dumps (as
// SAEDashboard writes them) work too. If the bytes are not valid UTF-8 the tokens were
// not byte-level encoded (e.g. literal "café"): they are kept as they are.

const BYTE_OF_CHAR = (() => {
  const m = new Map<number, number>();
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const set = new Set(printable);
  for (const b of printable) m.set(b, b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!set.has(b)) m.set(256 + n++, b);
  }
  return m;
})();

const ASCII = /^[\x00-\x7f]*$/;
const strict = new TextDecoder("utf-8", { fatal: true });

function tokenBytes(token: string, out: number[]): void {
  for (const ch of token) {
    const cp = ch.codePointAt(0)!;
    const b = BYTE_OF_CHAR.get(cp);
    if (b !== undefined) out.push(b);
    else if (cp < 0x80) out.push(cp);
    else for (const x of Buffer.from(ch, "utf8")) out.push(x);
  }
}

/** Length of an incomplete UTF-8 sequence at the end of bytes (0 if complete). */
function incompleteTail(bytes: ArrayLike<number>, end: number): number {
  for (let back = 1; back <= Math.min(3, end); back++) {
    const b = bytes[end - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export interface DecodedTokens {
  tokens: string[];
  text: string;
}

/** Decodes one example's tokens (a context window: it may start or end inside a character). */
export function decodeByteLevelTokens(tokens: readonly string[]): DecodedTokens {
  let ascii = true;
  for (const t of tokens) {
    if (!ASCII.test(t)) {
      ascii = false;
      break;
    }
  }
  // ASCII maps to itself: printable bytes are their own characters, controls and space are literal.
  if (ascii) return { tokens: [...tokens], text: tokens.join("") };
  const perToken: number[][] = tokens.map((t) => {
    const b: number[] = [];
    tokenBytes(t, b);
    return b;
  });
  const all = perToken.flat();
  let lead = 0;
  while (lead < all.length && (all[lead]! & 0xc0) === 0x80) lead++;
  const tail = incompleteTail(all, all.length);
  try {
    strict.decode(Uint8Array.from(all.slice(lead, all.length - tail)));
  } catch {
    return { tokens: [...tokens], text: tokens.join("") };
  }
  const out: string[] = [];
  let pending: number[] = [];
  let skip = lead; // orphan continuation bytes at the start of the window are dropped
  for (const bytes of perToken) {
    let buf = pending.concat(bytes);
    if (skip > 0) {
      const s = Math.min(skip, buf.length);
      buf = buf.slice(s);
      skip -= s;
    }
    const cut = incompleteTail(buf, buf.length);
    out.push(Buffer.from(buf.slice(0, buf.length - cut)).toString("utf8"));
    pending = buf.slice(buf.length - cut);
  }
  return { tokens: out, text: out.join("") };
}

/** One whole token (a logit-table entry): decoded alone, kept as is when not valid UTF-8. */
export function decodeByteLevelToken(token: string): string {
  if (ASCII.test(token)) return token;
  const b: number[] = [];
  tokenBytes(token, b);
  try {
    return strict.decode(Uint8Array.from(b));
  } catch {
    return token;
  }
}
