/**
 * Long series thinned for drawing. An hour of momentary loudness at 10 Hz is 36 000 points; a
 * plot is about a thousand pixels wide, so most of them would land on the same pixel column and
 * only bloat the report. Plain subsampling would drop the one block where the true peak went over;
 * a min/max envelope keeps, per bucket, both extremes, so every peak and every dip still shows.
 */

export interface Points {
  x: Float64Array;
  /** NaN where the series has no value (a gap: silence has no loudness). */
  y: Float64Array;
}

/** A value a plot can place: null, NaN and the infinities are gaps. */
function valueOrGap(value: number | null): number {
  return value !== null && Number.isFinite(value) ? value : NaN;
}

/**
 * At most `maxPoints` points (at least 2): equal-count buckets, each giving its minimum and its
 * maximum in the order they occur, with their own x. A bucket of gaps only gives one gap, so a
 * silence longer than a bucket still breaks the line.
 */
export function decimateMinMax(x: ArrayLike<number>, y: ArrayLike<number | null>, maxPoints: number): Points {
  const n = Math.min(x.length, y.length);
  const limit = Math.max(2, Math.floor(maxPoints));
  if (n <= limit) {
    const out = { x: new Float64Array(n), y: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      out.x[i] = x[i];
      out.y[i] = valueOrGap(y[i]);
    }
    return out;
  }
  const buckets = Math.floor(limit / 2);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let minAt = -1;
    let maxAt = -1;
    for (let i = from; i < to; i++) {
      const v = valueOrGap(y[i]);
      if (Number.isNaN(v)) continue;
      if (minAt < 0 || v < valueOrGap(y[minAt])) minAt = i;
      if (maxAt < 0 || v > valueOrGap(y[maxAt])) maxAt = i;
    }
    if (minAt < 0) {
      xs.push(x[from]);
      ys.push(NaN);
      continue;
    }
    for (const at of minAt === maxAt ? [minAt] : [Math.min(minAt, maxAt), Math.max(minAt, maxAt)]) {
      xs.push(x[at]);
      ys.push(valueOrGap(y[at]));
    }
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}
