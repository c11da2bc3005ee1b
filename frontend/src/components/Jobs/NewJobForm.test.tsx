import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { JobOut, JobSpec } from "../../client";
import { ApiError } from "../../lib/api";
import { NewJobForm } from "./NewJobForm";

describe("NewJobForm", () => {
  it("sends a JobSpec built from the fields", async () => {
    const submit = vi.fn(async (spec: JobSpec) => ({ id: "j1", ...spec }) as unknown as JobOut);
    const onCreated = vi.fn();
    render(<NewJobForm submit={submit} onCreated={onCreated} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Command", { exact: true }), "echo hi");
    await user.type(screen.getByLabelText("Labels"), "gpu, linux");
    await user.type(screen.getByLabelText("Environment"), "A=1{enter}B=x=y");
    await user.type(screen.getByLabelText("Timeout (seconds)"), "30");
    await user.click(screen.getByRole("button", { name: "Submit job" }));
    expect(submit).toHaveBeenCalledWith({
      command: "echo hi", labels: ["gpu", "linux"], env: { A: "1", B: "x=y" },
      timeout_seconds: 30, max_retries: 0, priority: 0,
    });
    expect(onCreated).toHaveBeenCalled();
  });

  it("sends secret names, and shows the API's unknown-secret refusal at the Secrets field", async () => {
    const submit = vi.fn(async () => {
      throw new ApiError(422, "secrets: unknown secret NOPE (set it first: PUT /api/v1/secrets/NOPE)");
    });
    render(<NewJobForm submit={submit} onCreated={() => {}} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Command", { exact: true }), "deploy");
    await user.type(screen.getByLabelText("Secrets"), "TOKEN, NOPE");
    await user.click(screen.getByRole("button", { name: "Submit job" }));
    expect(submit.mock.calls[0]).toMatchObject([{ secrets: ["TOKEN", "NOPE"] }]);
    const field = screen.getByLabelText("Secrets");
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(field).toHaveAccessibleDescription(/unknown secret NOPE/);
  });

  it("runs argv without a shell", async () => {
    const submit = vi.fn(async () => ({ id: "j" }) as JobOut);
    render(<NewJobForm submit={submit} onCreated={() => {}} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("radio", { name: /argv/ }));
    await user.type(screen.getByLabelText("Arguments"), "ls{enter}-l{enter}/tmp");
    await user.click(screen.getByRole("button", { name: "Submit job" }));
    expect(submit.mock.calls[0]).toMatchObject([{ argv: ["ls", "-l", "/tmp"] }]);
  });

  it("shows the API's 422 errors at their fields, and the rest above the button", async () => {
    const submit = vi.fn(async () => {
      throw new ApiError(422, [
        { loc: ["body", "priority"], msg: "Input should be less than or equal to 9" },
        { loc: ["body", "env"], msg: "Value error, environment variable name '1X' is not valid" },
        { loc: ["body"], msg: "Value error, something about the whole job" },
      ]);
    });
    render(<NewJobForm submit={submit} onCreated={() => {}} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Command", { exact: true }), "true");
    await user.clear(screen.getByLabelText("Priority"));
    await user.type(screen.getByLabelText("Priority"), "42");
    await user.click(screen.getByRole("button", { name: "Submit job" }));
    const priority = screen.getByLabelText("Priority");
    expect(priority).toHaveAttribute("aria-invalid", "true");
    expect(priority).toHaveAccessibleDescription(/less than or equal to 9/);
    expect(screen.getByLabelText("Environment")).toHaveAccessibleDescription(/'1X' is not valid/);
    expect(screen.getByText("something about the whole job")).toHaveAttribute("role", "alert");
    expect(screen.getByLabelText("Command", { exact: true })).not.toHaveAttribute("aria-invalid");
  });

  it("asks for a command before sending anything", async () => {
    const submit = vi.fn();
    render(<NewJobForm submit={submit} onCreated={() => {}} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Submit job" }));
    expect(submit).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Command", { exact: true })).toHaveAccessibleDescription(/a command to run/);
  });
});
