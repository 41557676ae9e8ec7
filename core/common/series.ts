// Thinning a memory timeline for a chart without losing its peak: the points are cut into buckets of equal count and
// each bucket keeps its first point and its highest one (by `value`), plus the very last point. The highest point of
// the whole series is therefore always kept, so a chart of the thinned series shows the same peak as the table next to
// it (a plain "every k-th point" can drop the allocation that made the peak). Pure TS.

/** At most about `max` points of `points` (in order), keeping every bucket's first and highest point and the last. */
export function thinKeepingPeaks<T>(points: readonly T[], max: number, value: (p: T) => number): T[] {
  if (points.length <= max || max < 4) return [...points];
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = Math.ceil(points.length / buckets);
  const keep = new Set<number>();
  for (let b = 0; b * size < points.length; b++) {
    const from = b * size;
    const to = Math.min(points.length, from + size);
    let best = from;
    for (let i = from + 1; i < to; i++) if (value(points[i]) > value(points[best])) best = i;
    keep.add(from);
    keep.add(best);
  }
  keep.add(points.length - 1);
  return [...keep].sort((a, b) => a - b).map((i) => points[i]);
}

/** Index of the first point with the highest value (-1 for no points). */
export function peakIndex<T>(points: readonly T[], value: (p: T) => number): number {
  let best = -1;
  for (let i = 0; i < points.length; i++) if (best < 0 || value(points[i]) > value(points[best])) best = i;
  return best;
}
