import { fireEvent, render, screen } from "@testing-library/react";
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
});
