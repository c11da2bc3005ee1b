/** Counts of timestamps per minute over the last `minutes` minutes; index 0 is the oldest. */
export function perMinute(timestamps: readonly string[], now: number, minutes = 60): number[] {
  const buckets = new Array<number>(minutes).fill(0);
  const end = Math.floor(now / 60_000) + 1; // the current (partial) minute is the last bucket
  for (const value of timestamps) {
    const minute = Math.floor(new Date(value).getTime() / 60_000);
    const index = minutes - (end - minute);
    if (index >= 0 && index < minutes) buckets[index] += 1;
  }
  return buckets;
}
