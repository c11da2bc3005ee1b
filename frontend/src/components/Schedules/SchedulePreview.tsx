import { ApiError, errorMessage } from "../../lib/api";
import { formatDateIn, relativeTime } from "../../lib/format";
import { useDebounced } from "../Common/useDebounced";
import { usePreview } from "./queries";

/** The expression in words and its next five fire times, asked of the API once typing pauses. */
export function SchedulePreview({ cron, timezone }: { cron: string; timezone: string }) {
  const settled = useDebounced({ cron: cron.trim(), timezone: timezone.trim() }, 400);
  const preview = usePreview(settled.cron, settled.timezone);
  const typing = settled.cron !== cron.trim() || settled.timezone !== timezone.trim();
  if (!cron.trim()) {
    return (
      <p className="preview muted" aria-live="polite">
        Type a cron expression to see when it fires.
      </p>
    );
  }
  const bad = preview.error instanceof ApiError && preview.error.status === 422;
  return (
    <section className="preview" aria-label="Next fire times" aria-live="polite" aria-busy={typing || preview.isFetching}>
      {preview.error ? (
        <p className={bad ? "field-error" : "error"} role="alert">
          {bad ? errorMessage(preview.error) : `Could not check the expression: ${errorMessage(preview.error)}`}
        </p>
      ) : preview.data ? (
        <>
          <p className="preview-description">
            <strong>{preview.data.description}</strong> <span className="muted">({preview.data.timezone})</span>
          </p>
          <ol className="preview-runs">
            {preview.data.next_runs.map((run) => (
              <li key={run}>
                <span>{formatDateIn(run, preview.data.timezone)}</span> <span className="muted">{relativeTime(run)}</span>
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p className="muted">Checking…</p>
      )}
    </section>
  );
}
