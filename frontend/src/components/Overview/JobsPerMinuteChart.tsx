/**
 * A bar chart of jobs created per minute. The bars are an SVG stretched to the container's
 * width; the axis labels are HTML, so the stretch never distorts text.
 */
export function JobsPerMinuteChart({ buckets }: { buckets: number[] }) {
  const max = Math.max(1, ...buckets);
  const total = buckets.reduce((a, b) => a + b, 0);
  const peak = Math.max(0, ...buckets);
  const width = buckets.length * 10;
  const height = 100;
  return (
    <figure className="chart">
      <div className="chart-plot">
        <div className="chart-y" aria-hidden="true">
          <span>{max}</span>
          <span>{max > 1 ? Math.round(max / 2) : ""}</span>
          <span>0</span>
        </div>
        <svg
          viewBox={`0 0 ${width} ${height}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Jobs per minute over the last hour: ${total} jobs, at most ${peak} in one minute`}
        >
          {[0, 0.5, 1].map((f) => (
            <line key={f} x1={0} x2={width} y1={f * height} y2={f * height} className="chart-grid" />
          ))}
          {buckets.map((count, i) => {
            const h = (count / max) * height;
            return (
              <rect key={i} x={i * 10 + 1} y={height - h} width={8} height={h} className="chart-bar">
                <title>{`${count} job${count === 1 ? "" : "s"}, ${buckets.length - i - 1} min ago`}</title>
              </rect>
            );
          })}
        </svg>
      </div>
      <div className="chart-x muted" aria-hidden="true">
        <span>60 min ago</span>
        <span>30 min ago</span>
        <span>now</span>
      </div>
      <figcaption className="muted">
        {total} job{total === 1 ? "" : "s"} in the last hour{total ? `, at most ${peak} in one minute` : ""}
      </figcaption>
    </figure>
  );
}
