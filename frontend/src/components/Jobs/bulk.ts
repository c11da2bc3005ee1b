// What a bulk cancel or rerun did, in words, from the API's answer per id.
import type { CancelResult, RerunResult } from "../../client";

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function counted<T extends { outcome: string }>(results: T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

export function describeCancel(results: CancelResult[]): string {
  const n = counted(results);
  const parts = [
    n.cancelled && `${plural(n.cancelled, "job", "jobs")} cancelled`,
    n.cancelling && `${plural(n.cancelling, "running job", "running jobs")} stopping (each ends when its worker has stopped it)`,
    n.already_final && `${plural(n.already_final, "job", "jobs")} had already ended`,
    n.not_found && `${plural(n.not_found, "job", "jobs")} not found`,
  ].filter(Boolean);
  return `${parts.join("; ")}.`;
}

export function describeRerun(results: RerunResult[]): string {
  const n = counted(results);
  const refused = results.filter((r) => r.outcome === "refused");
  const parts = [
    n.rerun && `${plural(n.rerun, "new job", "new jobs")} started`,
    ...refused.map((r) => `job ${r.id} refused: ${r.detail ?? "cannot run again"}`),
    n.not_found && `${plural(n.not_found, "job", "jobs")} not found`,
  ].filter(Boolean);
  return `${parts.join("; ")}.`;
}
