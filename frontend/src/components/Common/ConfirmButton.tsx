import { useEffect, useState } from "react";

interface Props {
  /** The button's text, e.g. "Revoke". */
  label: string;
  /** Its accessible name, naming what it acts on, e.g. "Revoke build-host-3". */
  name: string;
  /** The confirming button's text, e.g. "Yes, revoke". */
  confirm: string;
  onConfirm: () => void;
  busy: boolean;
  /** Nothing to act on (yet). */
  disabled?: boolean;
  className?: string;
}

/** A destructive action that asks once more before it happens. */
export function ConfirmButton({ label, name, confirm, onConfirm, busy, disabled, className }: Props) {
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    if (disabled) setConfirming(false); // asks again next time
  }, [disabled]);
  if (!confirming || disabled) {
    return (
      <button type="button" className={className} onClick={() => setConfirming(true)} aria-label={name} disabled={disabled}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm">
      <button type="button" className="danger" onClick={onConfirm} disabled={busy}>
        {confirm}
      </button>
      <button type="button" onClick={() => setConfirming(false)}>
        Keep
      </button>
    </span>
  );
}
