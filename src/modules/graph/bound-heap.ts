// A max-heap of (bound, item) pairs in typed arrays: the frontier of the best-first path search,
// which pushes hundreds of thousands of entries on a large graph (objects would cost a GC each).
export class BoundHeap {
  private keys = new Float64Array(1024);
  private items = new Int32Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The largest bound; only when size > 0. */
  peekKey(): number {
    return this.keys[0]!;
  }

  push(key: number, item: number): void {
    if (this.count === this.keys.length) {
      const keys = new Float64Array(this.count * 2);
      keys.set(this.keys);
      this.keys = keys;
      const items = new Int32Array(this.count * 2);
      items.set(this.items);
      this.items = items;
    }
    let i = this.count++;
    const keys = this.keys;
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! >= key) break;
      keys[i] = keys[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    keys[i] = key;
    items[i] = item;
  }

  /** Removes the entry with the largest bound and returns its item; only when size > 0. */
  pop(): number {
    const keys = this.keys;
    const items = this.items;
    const top = items[0]!;
    const last = --this.count;
    if (last === 0) return top;
    const key = keys[last]!;
    const item = items[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && keys[child + 1]! > keys[child]!) child++;
      if (keys[child]! <= key) break;
      keys[i] = keys[child]!;
      items[i] = items[child]!;
      i = child;
    }
    keys[i] = key;
    items[i] = item;
    return top;
  }
}
