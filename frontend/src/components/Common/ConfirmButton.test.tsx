import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ConfirmButton } from "./ConfirmButton";

describe("ConfirmButton", () => {
  it("acts only after the second click, and can be called off", async () => {
    const onConfirm = vi.fn();
    render(<ConfirmButton label="Delete" name="Delete TOKEN" confirm="Yes, delete" onConfirm={onConfirm} busy={false} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Delete TOKEN" }));
    await user.click(screen.getByRole("button", { name: "Keep" }));
    expect(onConfirm).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Delete TOKEN" }));
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });
});
