import { HEIGHT, MinuteChart, minutesAgo, STEP } from "./MinuteChart";

/** Below this height a minute with no failure still shows a sliver: jobs ended, none failed. */
const NONE_FAILED = 2;

/** The share of the jobs that ended each minute that failed or timed out, 0–100 %. */
export function FailureRateChart({ ended, failed }: { ended: number[]; failed: number[] }) {
  const total = ended.reduce((a, b) => a + b, 0);
  const failures = failed.reduce((a, b) => a + b, 0);
  const rate = total ? Math.round((failures / total) * 100) : 0;
  const summary = total
    ? `${failures} of ${total} job${total === 1 ? "" : "s"} that ended failed or timed out (${rate}\u00a0%)`
    : "No job ended in the last hour";
  return (
    <MinuteChart label={`Failure rate per minute over the last hour: ${summary}`} y={["100\u00a0%", "50\u00a0%", "0"]} minutes={ended.length} caption={summary}>
      {ended.map((n, i) => {
        if (!n) return null;
        const share = failed[i] / n;
        const h = failed[i] ? Math.max(NONE_FAILED, share * HEIGHT) : NONE_FAILED;
        return (
          <rect key={i} x={i * STEP + 1} y={HEIGHT - h} width={STEP - 2} height={h} className={failed[i] ? "chart-bar-failed" : "chart-bar-ok"}>
            <title>{`${minutesAgo(i, ended.length)}: ${failed[i]} of ${n} failed (${Math.round(share * 100)}\u00a0%)`}</title>
          </rect>
        );
      })}
    </MinuteChart>
  );
}
