import { describe, expect, it } from "vitest";
import { parseAnsi } from "./ansi";

describe("parseAnsi", () => {
  it("leaves plain text alone", () => {
    expect(parseAnsi("hello")).toEqual([{ text: "hello", style: {} }]);
  });

  it("splits text at SGR codes and resets", () => {
    expect(parseAnsi("a\x1b[31mred\x1b[0mb")).toEqual([
      { text: "a", style: {} },
      { text: "red", style: { fg: 1 } },
      { text: "b", style: {} },
    ]);
  });

  it("knows bright, 256 and 24-bit colours, backgrounds and attributes", () => {
    expect(parseAnsi("\x1b[1;92mx")[0].style).toEqual({ bold: true, fg: 10 });
    expect(parseAnsi("\x1b[38;5;196mx")[0].style).toEqual({ fg: "rgb(255, 0, 0)" });
    expect(parseAnsi("\x1b[38;5;4mx")[0].style).toEqual({ fg: 4 });
    expect(parseAnsi("\x1b[48;2;1;2;3mx")[0].style).toEqual({ bg: "rgb(1, 2, 3)" });
    expect(parseAnsi("\x1b[4;44mx\x1b[24;49my")).toEqual([
      { text: "x", style: { underline: true, bg: 4 } },
      { text: "y", style: { underline: false } },
    ]);
  });

  it("drops other escape sequences", () => {
    expect(parseAnsi("\x1b[2Kdone\x1b]0;title\x07!")).toEqual([
      { text: "done", style: {} },
      { text: "!", style: {} },
    ]);
  });
});
