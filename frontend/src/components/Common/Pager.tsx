/** Previous/next buttons over cursor pages: `cursors` holds the cursor of each page seen so
 * far (the first is `undefined`), so going back needs no cursor from the API. */
export function Pager({
  cursors,
  setCursors,
  nextCursor,
  back = "← Previous",
  forward = "Next →",
}: {
  cursors: (string | undefined)[];
  setCursors: (cursors: (string | undefined)[]) => void;
  nextCursor: string | null | undefined;
  back?: string;
  forward?: string;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
        {back}
      </button>
      <span className="muted">Page {cursors.length}</span>
      <button type="button" disabled={!nextCursor} onClick={() => setCursors([...cursors, nextCursor ?? undefined])}>
        {forward}
      </button>
    </nav>
  );
}
