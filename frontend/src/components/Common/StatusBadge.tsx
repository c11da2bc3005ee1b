const LABELS: Record<string, string> = { timed_out: "timed out" };

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{LABELS[status] ?? status}</span>;
}
