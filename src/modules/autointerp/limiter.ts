// At most `n` tasks at once; the rest wait in order.

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
}

export function createLimiter(n: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = () =>
    active < n
      ? (active++, Promise.resolve())
      : new Promise<void>((resolve) =>
          waiting.push(() => {
            active++;
            resolve();
          }),
        );
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    get active() {
      return active;
    },
    async run(task) {
      await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
