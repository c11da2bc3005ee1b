import { HEIGHT, MinuteChart, minutesAgo, niceCeil, STEP } from "./MinuteChart";

/** A bar chart of jobs created per minute. */
export function JobsPerMinuteChart({ buckets }: { buckets: number[] }) {
  // An even number at the top, so that the middle is a whole number too.
  const max = 2 * Math.ceil(niceCeil(Math.max(1, ...buckets)) / 2);
  const total = buckets.reduce((a, b) => a + b, 0);
  const peak = Math.max(0, ...buckets);
  return (
    <MinuteChart
      label={`Jobs per minute over the last hour: ${total} jobs, at most ${peak} in one minute`}
      y={[String(max), String(max / 2), "0"]}
      minutes={buckets.length}
      caption={`${total} job${total === 1 ? "" : "s"} created in the last hour${total ? `, at most ${peak} in one minute` : ""}`}
    >
      {buckets.map((count, i) => {
        const h = (count / max) * HEIGHT;
        return (
          <rect key={i} x={i * STEP + 1} y={HEIGHT - h} width={STEP - 2} height={h} className="chart-bar">
            <title>{`${count} job${count === 1 ? "" : "s"}, ${minutesAgo(i, buckets.length)}`}</title>
          </rect>
        );
      })}
    </MinuteChart>
  );
}
