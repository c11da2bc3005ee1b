import { Fragment, memo, type CSSProperties, type ReactNode } from "react";
import { type AnsiStyle, hasAnsi, parseAnsi } from "../../lib/ansi";
import { type Mark, markSegments } from "./logSearch";

function classesAndStyle(style: AnsiStyle): { className?: string; style?: CSSProperties } {
  const classes: string[] = [];
  const css: CSSProperties = {};
  const [fg, bg] = style.inverse ? [style.bg, style.fg] : [style.fg, style.bg];
  if (typeof fg === "number") classes.push(`ansi-fg-${fg}`);
  else if (fg) css.color = fg;
  if (typeof bg === "number") classes.push(`ansi-bg-${bg}`);
  else if (bg) css.backgroundColor = bg;
  if (style.inverse && fg === undefined) classes.push("ansi-inverse-fg");
  if (style.inverse && bg === undefined) classes.push("ansi-inverse-bg");
  if (style.bold) classes.push("ansi-bold");
  if (style.dim) classes.push("ansi-dim");
  if (style.italic) classes.push("ansi-italic");
  if (style.underline) classes.push("ansi-underline");
  return { className: classes.join(" ") || undefined, style: Object.keys(css).length ? css : undefined };
}

/**
 * One log line with its ANSI colours as spans (plain text when it has no escapes), and the
 * matches of a search in it as <mark>s (offsets in the text as shown, without escapes).
 */
export const AnsiText = memo(function AnsiText({ text, marks }: { text: string; marks?: Mark[] }) {
  if (!hasAnsi(text) && !marks) return <>{text}</>;
  const segments = parseAnsi(text);
  return (
    <>
      {(marks ? markSegments(segments, marks) : segments).map((segment, i) => {
        const props = classesAndStyle(segment.style);
        let node: ReactNode =
          props.className || props.style ? <span {...props}>{segment.text}</span> : segment.text;
        if ("mark" in segment && segment.mark) {
          node = <mark className={segment.mark === "current" ? "log-match log-match-current" : "log-match"}>{node}</mark>;
        }
        return <Fragment key={i}>{node}</Fragment>;
      })}
    </>
  );
});
