import { useEffect, useState } from "react";

/** A text filter that reports its value once typing has paused (300 ms), trimmed, `undefined`
 * when empty; it follows `value` when that changes from outside (a cleared filter, the URL). */
export function DebouncedInput(props: {
  id: string;
  label: string;
  value?: string;
  type?: string;
  placeholder?: string;
  onChange: (value: string | undefined) => void;
}) {
  const { id, label, value, type = "text", placeholder, onChange } = props;
  const [text, setText] = useState(value ?? "");
  useEffect(() => setText(value ?? ""), [value]);
  useEffect(() => {
    if (text === (value ?? "")) return;
    const timer = setTimeout(() => onChange(text.trim() || undefined), 300);
    return () => clearTimeout(timer);
  }, [text]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={text} placeholder={placeholder} autoComplete="off" onChange={(e) => setText(e.target.value)} />
    </div>
  );
}
