import { formatSeconds } from "../../lib/format";
import { HEIGHT, MinuteChart, minutesAgo, niceCeil, STEP } from "./MinuteChart";

interface Props {
  p50: (number | null)[];
  p95: (number | null)[];
  ended: number[];
}

/**
 * How long the jobs that ended each minute ran: a pale bar up to the 95th percentile, a solid
 * one up to the median. A minute without a job that ran has no bar.
 */
export function DurationChart({ p50, p95, ended }: Props) {
  const known = p95.filter((v): v is number => v !== null);
  const top = niceCeil(Math.max(0, ...known));
  const slowest = known.length ? Math.max(...known) : null;
  const y = (seconds: number) => (seconds / top) * HEIGHT;
  return (
    <MinuteChart
      label={
        slowest === null
          ? "Run time per minute over the last hour: no job ended"
          : `Run time per minute over the last hour: the slowest minute's 95th percentile ${formatSeconds(slowest)}`
      }
      y={[formatSeconds(top), formatSeconds(top / 2), "0"]}
      minutes={p95.length}
      legend={
        <>
          <span className="key key-p50" /> median <span className="key key-p95" /> 95th percentile
        </>
      }
      caption={
        slowest === null
          ? "No job ended in the last hour"
          : `Jobs that ended, by the minute they ended; the slowest minute's 95th percentile: ${formatSeconds(slowest)}`
      }
    >
      {p95.map((high, i) => {
        if (high === null) return null;
        const median = p50[i] ?? high;
        return (
          <g key={i}>
            <title>{`${minutesAgo(i, p95.length)}: median ${formatSeconds(median)}, 95th percentile ${formatSeconds(high)} (${ended[i]} ended)`}</title>
            <rect x={i * STEP + 1} y={HEIGHT - y(high)} width={STEP - 2} height={y(high)} className="chart-bar-p95" />
            <rect x={i * STEP + 1} y={HEIGHT - y(median)} width={STEP - 2} height={y(median)} className="chart-bar-p50" />
          </g>
        );
      })}
    </MinuteChart>
  );
}
