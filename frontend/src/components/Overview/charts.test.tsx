import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { DurationChart } from "./DurationChart";
import { FailureRateChart } from "./FailureRateChart";
import { JobsPerMinuteChart } from "./JobsPerMinuteChart";
import { niceCeil } from "./MinuteChart";

const hour = <T,>(value: T, at: Record<number, T> = {}) => Array.from({ length: 60 }, (_, i) => (i in at ? at[i] : value));

describe("niceCeil", () => {
  it("rounds the top of an axis up to a round number", () => {
    expect([0, 0.3, 1, 1.2, 3, 7, 9, 10, 10.2, 42, 180].map(niceCeil)).toEqual([1, 0.3, 1, 1.5, 3, 8, 10, 10, 15, 50, 200]);
  });
});

describe("DurationChart", () => {
  it("draws the median and 95th percentile of each minute that has them", () => {
    const { container } = render(
      <DurationChart p50={hour<number | null>(null, { 10: 2, 59: 30 })} p95={hour<number | null>(null, { 10: 4, 59: 80 })} ended={hour(0, { 10: 3, 59: 5 })} />,
    );
    expect(screen.getByRole("img", { name: /Run time per minute.*95th percentile 1m 20s/ })).toBeInTheDocument();
    // Two minutes, each a pale bar (p95) behind a solid one (p50), on an axis up to 80 s
    const p95 = container.querySelectorAll(".chart-bar-p95");
    const p50 = container.querySelectorAll(".chart-bar-p50");
    expect(p95).toHaveLength(2);
    expect(Number(p95[1].getAttribute("height"))).toBe(100);
    expect(Number(p50[1].getAttribute("height"))).toBe(37.5);
    expect(container.querySelector("g title")?.textContent).toBe("49 min ago: median 2s, 95th percentile 4s (3 ended)");
    expect(screen.getByText("1m 20s")).toBeInTheDocument(); // the top of the axis: 80 s
  });

  it("says when no job ended", () => {
    render(<DurationChart p50={hour(null)} p95={hour(null)} ended={hour(0)} />);
    expect(screen.getByText("No job ended in the last hour")).toBeInTheDocument();
  });
});

describe("FailureRateChart", () => {
  it("shows each minute's share of failures, and minutes without one apart from minutes without jobs", () => {
    const { container } = render(<FailureRateChart ended={hour(0, { 5: 4, 6: 2 })} failed={hour(0, { 5: 1 })} />);
    expect(screen.getByText(/^1 of 6 jobs that ended failed or timed out \(17\s%\)$/)).toBeInTheDocument();
    const failed = container.querySelector(".chart-bar-failed")!;
    expect(Number(failed.getAttribute("height"))).toBe(25);
    expect(failed.textContent).toBe("54 min ago: 1 of 4 failed (25\u00a0%)");
    expect(container.querySelectorAll(".chart-bar-ok")).toHaveLength(1);
    expect(container.querySelectorAll("rect")).toHaveLength(2);
  });
});

describe("JobsPerMinuteChart", () => {
  it("scales to an even top, so that the middle label is a whole number", () => {
    const { container } = render(<JobsPerMinuteChart buckets={hour(0, { 58: 12, 59: 3 })} />);
    expect([...container.querySelectorAll(".chart-y span")].map((s) => s.textContent)).toEqual(["16", "8", "0"]);
    expect(screen.getByRole("img", { name: "Jobs per minute over the last hour: 15 jobs, at most 12 in one minute" })).toBeInTheDocument();
    expect(container.querySelectorAll("rect")[58].getAttribute("height")).toBe("75");
  });
});
