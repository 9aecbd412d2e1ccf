// Scoring metrics: binary classification (detection, fuzzing) and Pearson correlation (simulation).

export interface BinaryMetrics {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** (TP/P + TN/N) / 2; with one class absent, the accuracy on the class present. */
  balancedAccuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

export function binaryMetrics(labels: number[], predictions: number[]): BinaryMetrics {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  labels.forEach((y, i) => {
    const p = predictions[i] === 1;
    if (y === 1) p ? tp++ : fn++;
    else p ? fp++ : tn++;
  });
  const pos = tp + fn;
  const neg = tn + fp;
  const tpr = pos ? tp / pos : null;
  const tnr = neg ? tn / neg : null;
  const balancedAccuracy = tpr !== null && tnr !== null ? (tpr + tnr) / 2 : (tpr ?? tnr ?? 0);
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tpr ?? 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, tn, fn, balancedAccuracy, precision, recall, f1 };
}

/** Pearson correlation; null when either side has no variance. */
export function pearson(x: number[], y: number[]): number | null {
  const n = Math.min(x.length, y.length);
  if (n < 2) return null;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}
