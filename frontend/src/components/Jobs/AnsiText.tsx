import { memo, type CSSProperties } from "react";
import { type AnsiStyle, hasAnsi, parseAnsi } from "../../lib/ansi";

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

/** One log line with its ANSI colours as spans (plain text when it has no escapes). */
export const AnsiText = memo(function AnsiText({ text }: { text: string }) {
  if (!hasAnsi(text)) return <>{text}</>;
  return (
    <>
      {parseAnsi(text).map((segment, i) => {
        const props = classesAndStyle(segment.style);
        return props.className || props.style ? (
          <span key={i} {...props}>
            {segment.text}
          </span>
        ) : (
          segment.text
        );
      })}
    </>
  );
});
