import { useState } from "react";

interface Props {
  /** The text to copy. */
  text: string;
  /** The element whose text to select when the clipboard is not available (plain http). */
  fallbackId: string;
  /** Its accessible name, e.g. "Copy the key". */
  name?: string;
}

/** Copies `text`; where the browser refuses the clipboard, selects the text so Ctrl-C copies it. */
export function CopyButton({ text, fallbackId, name }: Props) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      const field = document.getElementById(fallbackId);
      if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) field.select();
      else if (field) window.getSelection()?.selectAllChildren(field);
    }
  }
  return (
    <button type="button" onClick={copy} aria-label={name}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
