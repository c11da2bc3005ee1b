import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type { LogLine } from "../../client";
import { LogSearch, type Mark } from "./logSearch";

const DEBOUNCE_MS = 120; // typing into a 100,000-line log searches once, when the typing pauses

export interface LogSearchState {
  query: string;
  setQuery: (query: string) => void;
  /** Matches found so far (the log may still grow). */
  count: number;
  /** "3 of 120", "No matches", or "" with no query. */
  summary: string;
  /** Go to the next (1) or previous (-1) match, round the end. */
  step: (delta: 1 | -1) => void;
  marksIn: (index: number) => Mark[] | undefined;
}

/**
 * Search state of a LogViewer. A new query starts at the first match from the top of the view
 * down; new lines of a live log are searched as they arrive, without moving the view.
 */
export function useLogSearch(
  lines: readonly LogLine[],
  version: number,
  firstVisible: () => number,
  show: (index: number) => void,
): LogSearchState {
  const [query, setQuery] = useState("");
  const [searched, setSearched] = useState("");
  const [current, setCurrent] = useState(0);
  const search = useRef<{ source: readonly LogLine[]; matches: LogSearch } | null>(null);
  const [, changed] = useReducer((n: number) => n + 1, 0);
  const latest = useRef({ firstVisible, show });
  latest.current = { firstVisible, show };

  useEffect(() => {
    const timer = setTimeout(() => setSearched(query), query ? DEBOUNCE_MS : 0);
    return () => clearTimeout(timer);
  }, [query]);

  // A new query: from scratch, then to the first match at or below the top of the view.
  useEffect(() => {
    if (!searched) {
      search.current = null;
      changed();
      return;
    }
    const matches = new LogSearch(searched);
    matches.scan(lines);
    search.current = { source: lines, matches };
    const below = matches.firstAtOrAfter(latest.current.firstVisible());
    const at = below < matches.count ? below : 0;
    setCurrent(at);
    changed();
    if (matches.count) latest.current.show(matches.lines[at]);
  }, [searched]); // eslint-disable-line react-hooks/exhaustive-deps

  // More lines (or a log read again from the start): search what is new.
  useEffect(() => {
    const state = search.current;
    if (!state) return;
    if (state.source !== lines) {
      search.current = { source: lines, matches: new LogSearch(state.matches.query) };
      search.current.matches.scan(lines);
      setCurrent(0);
      changed();
    } else if (state.matches.scan(lines)) {
      changed();
    }
  }, [lines, version]);

  const matches = search.current?.matches;
  const count = matches?.count ?? 0;

  const step = useCallback(
    (delta: 1 | -1) => {
      const found = search.current?.matches;
      if (!found?.count) return;
      const next = (current + delta + found.count) % found.count;
      setCurrent(next);
      latest.current.show(found.lines[next]);
    },
    [current],
  );

  let summary = "";
  if (query && (query !== searched || !matches)) summary = "…";
  else if (matches) {
    summary = count
      ? `${(current + 1).toLocaleString()} of ${count.toLocaleString()}${matches.capped ? "+" : ""}`
      : "No matches";
  }

  return {
    query,
    setQuery,
    count,
    summary,
    step,
    marksIn: (index) => matches?.marksIn(index, current),
  };
}
