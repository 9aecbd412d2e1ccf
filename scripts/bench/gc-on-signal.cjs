// Preloaded into the soak's server process only (node --expose-gc --require this file):
// SIGUSR2 runs a full garbage collection and prints the memory figures on stderr, so the
// soak compares the memory a server really holds rather than where its GC cycle happens to be.
"use strict";
process.on("SIGUSR2", () => {
  if (typeof global.gc === "function") {
    global.gc();
    global.gc();
  }
  const m = process.memoryUsage();
  process.stderr.write(`soak-gc: rss=${m.rss} heapUsed=${m.heapUsed} external=${m.external}\n`);
});
