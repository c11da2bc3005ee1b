import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLine } from "../../client";
import { LogViewer, ROW_HEIGHT } from "./LogViewer";

const VIEW = { width: 800, height: 400 };

function makeLines(count: number): LogLine[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    stream: i % 10 === 9 ? "stderr" : "stdout",
    text: i === 2 ? "\x1b[1;31mred and bold\x1b[0m plain" : `line ${i + 1}`,
    ts: "2026-01-01T00:00:00Z",
  }));
}

function scroller() {
  return screen.getByRole("log", { name: "Job output" });
}

/** jsdom has no layout: give the scroll box the sizes a browser would compute. */
function layOut(el: HTMLElement, count: number) {
  Object.defineProperty(el, "clientHeight", { configurable: true, value: VIEW.height });
  Object.defineProperty(el, "scrollHeight", { configurable: true, get: () => count * ROW_HEIGHT });
}

// jsdom lays nothing out: the log's scroll box gets the size a browser would give it.
const sizes = ["clientHeight", "clientWidth"] as const;
const saved = sizes.map((key) => Object.getOwnPropertyDescriptor(Element.prototype, key));
beforeAll(() => {
  sizes.forEach((key) =>
    Object.defineProperty(Element.prototype, key, {
      configurable: true,
      get(this: Element) {
        if (!this.classList.contains("log-scroll")) return 0;
        return key === "clientHeight" ? VIEW.height : VIEW.width;
      },
    }),
  );
});
afterAll(() => sizes.forEach((key, i) => Object.defineProperty(Element.prototype, key, saved[i]!)));

describe("LogViewer", () => {
  it("renders 100,000 lines with only a window of rows in the DOM", () => {
    const lines = makeLines(100_000);
    const started = performance.now();
    render(<LogViewer lines={lines} version={1} />);
    const rows = scroller().querySelectorAll(".log-row");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(120);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(screen.getByText("100,000 lines")).toBeInTheDocument();
  });

  it("numbers lines, marks stderr and renders ANSI colours", () => {
    render(<LogViewer lines={makeLines(20)} version={1} />);
    const row10 = scroller().querySelector('.log-row[data-seq="10"]')!;
    expect(row10).toHaveClass("log-stderr");
    expect(row10.querySelector(".log-no")).toHaveTextContent("10");
    expect(scroller().querySelector('.log-row[data-seq="9"]')).not.toHaveClass("log-stderr");
    const red = screen.getByText("red and bold");
    expect(red).toHaveClass("ansi-fg-1", "ansi-bold");
    expect(red.parentElement).toHaveTextContent(/^red and bold plain$/);
    expect(scroller().textContent).not.toContain("\x1b");
  });

  it("follows new lines, stops when scrolled up, resumes at the bottom", () => {
    const lines = makeLines(1000);
    const { rerender } = render(<LogViewer lines={lines} version={1} />);
    const el = scroller();
    layOut(el, lines.length);
    const follow = () => screen.getByRole("button", { name: /^Follow/ });

    // Following: more lines move the view to the new bottom
    lines.push(...makeLines(1100).slice(1000));
    layOut(el, lines.length);
    rerender(<LogViewer lines={lines} version={2} />);
    expect(el.scrollTop).toBe(1100 * ROW_HEIGHT);
    expect(follow()).toHaveAttribute("aria-pressed", "true");

    // The user scrolls up: follow mode stops and new lines leave the view where it is
    el.scrollTop = 100 * ROW_HEIGHT;
    fireEvent.scroll(el);
    expect(follow()).toHaveAttribute("aria-pressed", "false");
    lines.push(...makeLines(1200).slice(1100));
    layOut(el, lines.length);
    rerender(<LogViewer lines={lines} version={3} />);
    expect(el.scrollTop).toBe(100 * ROW_HEIGHT);

    // Back at the bottom: following again
    el.scrollTop = 1200 * ROW_HEIGHT - VIEW.height;
    fireEvent.scroll(el);
    expect(follow()).toHaveAttribute("aria-pressed", "true");
    lines.push(...makeLines(1300).slice(1200));
    layOut(el, lines.length);
    rerender(<LogViewer lines={lines} version={4} />);
    expect(el.scrollTop).toBe(1300 * ROW_HEIGHT);

    // And the Follow button jumps back after scrolling away
    el.scrollTop = 0;
    fireEvent.scroll(el);
    fireEvent.click(follow());
    expect(el.scrollTop).toBe(1300 * ROW_HEIGHT);
    expect(follow()).toHaveAttribute("aria-pressed", "true");
  });

  it("finds text in any line of 100,000, highlights it and scrolls to each match in turn", async () => {
    // Given a long log with "needle" in lines 25,000, 50,000, 75,000 and 100,000 (once in colour)
    const lines = makeLines(100_000).map((line) =>
      line.seq % 25_000 ? line : { ...line, text: line.seq === 50_000 ? "\x1b[33mneedle\x1b[0m 50000" : `needle ${line.seq}` },
    );
    render(<LogViewer lines={lines} version={1} />);
    const el = scroller();
    layOut(el, lines.length);
    el.scrollTop = 0;
    fireEvent.scroll(el);
    const user = userEvent.setup();
    const matches = () => screen.getByRole("status", { name: "Matches" });
    const middleOf = (seq: number) => (seq - 1) * ROW_HEIGHT - (VIEW.height - ROW_HEIGHT) / 2;

    // When "NEEDLE" is searched (any case)
    await user.type(screen.getByRole("searchbox", { name: "Find in log" }), "NEEDLE");
    // Then the count is shown and the view is at the first match, marked as the current one
    expect(await screen.findByText("1 of 4")).toBe(matches());
    expect(el.scrollTop).toBe(middleOf(25_000));
    fireEvent.scroll(el);
    const row = el.querySelector('.log-row[data-seq="25000"]')!;
    expect(row.querySelector("mark.log-match-current")).toHaveTextContent(/^needle$/);
    expect(screen.getByRole("button", { name: /^Follow/ })).toHaveAttribute("aria-pressed", "false");

    // Enter goes to the next (through ANSI colours), Shift+Enter back, and round the ends
    await user.keyboard("{Enter}");
    expect(matches()).toHaveTextContent("2 of 4");
    expect(el.scrollTop).toBe(middleOf(50_000));
    fireEvent.scroll(el);
    const coloured = el.querySelector('.log-row[data-seq="50000"] mark.log-match-current')!;
    expect(coloured).toHaveTextContent("needle");
    expect(coloured.querySelector(".ansi-fg-3")).not.toBeNull();
    await user.keyboard("{Shift>}{Enter}{/Shift}{Shift>}{Enter}{/Shift}");
    expect(matches()).toHaveTextContent("4 of 4");
    expect(el.scrollTop).toBe(middleOf(100_000));
    await user.click(screen.getByRole("button", { name: "Next match" }));
    expect(matches()).toHaveTextContent("1 of 4");

    // A text nowhere in the log says so; Escape clears the search
    await user.clear(screen.getByRole("searchbox", { name: "Find in log" }));
    await user.type(screen.getByRole("searchbox", { name: "Find in log" }), "haystack");
    expect(await screen.findByText("No matches")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Next match" })).toBeDisabled();
    await user.keyboard("{Escape}");
    expect(screen.getByRole("searchbox", { name: "Find in log" })).toHaveValue("");
    expect(el.querySelector("mark")).toBeNull();
  }, 20_000);

  it("counts matches in lines that arrive while searching, without moving the view", async () => {
    const lines = makeLines(10);
    const { rerender } = render(<LogViewer lines={lines} version={1} />);
    const el = scroller();
    layOut(el, lines.length);
    const user = userEvent.setup();
    await user.type(screen.getByRole("searchbox", { name: "Find in log" }), "line 1");
    expect(await screen.findByText("1 of 2")).toBeInTheDocument(); // "line 1", "line 10"
    const at = el.scrollTop;
    lines.push(...makeLines(12).slice(10)); // "line 11", "line 12"
    rerender(<LogViewer lines={lines} version={2} />);
    expect(screen.getByRole("status", { name: "Matches" })).toHaveTextContent("1 of 4");
    expect(el.scrollTop).toBe(at);
  });

  it("Ctrl-F in the log goes to its find box", async () => {
    render(<LogViewer lines={makeLines(5)} version={1} />);
    const user = userEvent.setup();
    scroller().focus();
    await user.keyboard("{Control>}f{/Control}");
    expect(screen.getByRole("searchbox", { name: "Find in log" })).toHaveFocus();
  });

  it("shows each line's time on demand, and remembers the choice", async () => {
    const lines = makeLines(3).map((line, i) => ({ ...line, ts: new Date(2026, 0, 1, 9, 30, i, 5).toISOString() }));
    const { unmount } = render(<LogViewer lines={lines} version={1} />);
    const user = userEvent.setup();
    expect(scroller().querySelector(".log-ts")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Timestamps" }));
    expect(screen.getByRole("button", { name: "Timestamps" })).toHaveAttribute("aria-pressed", "true");
    const times = [...scroller().querySelectorAll(".log-ts")].map((t) => t.textContent);
    expect(times).toEqual(["09:30:00.005", "09:30:01.005", "09:30:02.005"]);
    unmount();
    render(<LogViewer lines={lines} version={1} />);
    expect(scroller().querySelectorAll(".log-ts")).toHaveLength(3);
  });
});
