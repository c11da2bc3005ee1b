import type { ReactNode } from "react";

/** Drawing units per minute and of the height: the SVG stretches to its box, text is HTML. */
export const STEP = 10;
export const HEIGHT = 100;

interface Props {
  /** What a screen reader says of the picture, with its figures. */
  label: string;
  /** The top, middle and bottom labels of the y axis. */
  y: [string, string, string];
  minutes: number;
  caption: ReactNode;
  legend?: ReactNode;
  children: ReactNode;
}

/**
 * The frame of a chart of the last hour, minute by minute: a y axis of three labels, grid
 * lines, "60 min ago … now", a caption. The marks (children) are drawn in a viewBox
 * `minutes × STEP` wide and HEIGHT high, minute `i` at x = i × STEP, 0 at the bottom.
 */
export function MinuteChart({ label, y, minutes, caption, legend, children }: Props) {
  const width = minutes * STEP;
  return (
    <figure className="chart">
      <div className="chart-plot">
        <div className="chart-y" aria-hidden="true">
          {y.map((text, i) => (
            <span key={i}>{text}</span>
          ))}
        </div>
        <svg viewBox={`0 0 ${width} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={label}>
          {[0, 0.5, 1].map((f) => (
            <line key={f} x1={0} x2={width} y1={f * HEIGHT} y2={f * HEIGHT} className="chart-grid" />
          ))}
          {children}
        </svg>
      </div>
      <div className="chart-x muted" aria-hidden="true">
        <span>{minutes} min ago</span>
        <span>{minutes / 2} min ago</span>
        <span>now</span>
      </div>
      {legend && <div className="chart-legend muted">{legend}</div>}
      <figcaption className="muted">{caption}</figcaption>
    </figure>
  );
}

export function minutesAgo(i: number, minutes: number): string {
  const ago = minutes - i - 1;
  return ago === 0 ? "this minute" : `${ago} min ago`;
}

const NICE = [1, 1.5, 2, 3, 4, 5, 6, 8, 10];

/** The smallest round number (1, 1.5, 2, 3, 4, 5, 6 or 8 × 10^n) at or above `value`: the
 * top of a y axis, whose half is round too. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of NICE) if (value <= step * power * (1 + 1e-9)) return Number((step * power).toPrecision(12));
  return 10 * power;
}
