import { expect, type Page, test } from "@playwright/test";
import { apiSubmit, env, logIn, shot, unique, waitFinal } from "./helpers";

const nav = (page: Page) => page.getByRole("navigation", { name: "Main" });

test("an admin creates a viewer, who is offered nothing but reading, then makes them a member", async ({ page, browser }) => {
  await logIn(page);
  await nav(page).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users", exact: true })).toBeVisible();
  const form = page.getByRole("form", { name: "New user" });
  await expect(page.getByText("At least 8 characters, not containing the username.")).toBeVisible();

  // The API's password policy, in its own words
  const username = unique("e2e-viewer");
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill(`${username}-pw`);
  await form.getByLabel("Role").selectOption("viewer");
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("alert")).toContainText("must not contain the username");
  await form.getByLabel("Password").fill("short");
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("alert")).toContainText(/at least 8 characters/i);
  const password = "correct horse battery";
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("status")).toContainText(`${username} (viewer) can now sign in.`);
  const row = page.getByRole("row", { name: `User ${username}` });
  await expect(row.getByRole("combobox", { name: `Role of ${username}` })).toHaveValue("viewer");

  // The tenant's last admin stays one: the API's 409, said in the row
  const me = page.getByRole("row", { name: `User ${env.username}` });
  await me.getByRole("combobox").selectOption("viewer");
  await expect(me.getByRole("alert")).toContainText("last admin");
  await expect(me.getByRole("combobox")).toHaveValue("admin");
  await shot(page, "users");

  // The viewer signs in elsewhere: no submit, cancel, rerun, bulk or admin control anywhere
  const job = await apiSubmit({ command: "echo for the viewer", name: "e2e viewer's job" });
  await waitFinal(job.id);
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await logIn(viewer, { username, password });
  await expect(viewer.getByRole("link", { name: `${username} viewer`, exact: true })).toBeVisible();
  for (const hidden of ["New job", "Users", "Audit", "Tenants"]) {
    await expect(nav(viewer).getByRole("link", { name: hidden, exact: true })).toHaveCount(0);
  }
  await nav(viewer).getByRole("link", { name: "Jobs" }).click();
  await expect(viewer.getByRole("row").filter({ hasText: "e2e viewer's job" })).toBeVisible();
  await expect(viewer.getByRole("link", { name: "New job" })).toHaveCount(0);
  await expect(viewer.getByRole("toolbar", { name: "Selected jobs" })).toHaveCount(0);
  await expect(viewer.getByRole("checkbox")).toHaveCount(0);
  await viewer.goto(`/jobs/${job.id}`);
  await expect(viewer.getByText("for the viewer").first()).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Cancel" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Rerun" })).toHaveCount(0);
  await shot(viewer, "job-detail-viewer");
  await nav(viewer).getByRole("link", { name: "Workers" }).click();
  await expect(viewer.getByRole("row", { name: "Worker e2e-worker" })).toBeVisible();
  await expect(viewer.getByRole("button", { name: /^(Drain|Remove) / })).toHaveCount(0);
  await nav(viewer).getByRole("link", { name: "Secrets" }).click();
  await expect(viewer.getByRole("heading", { name: "Your secrets" })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Save secret" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: /^Delete / })).toHaveCount(0);
  await nav(viewer).getByRole("link", { name: "Credentials" }).click();
  await expect(viewer.getByRole("row", { name: "Key e2e-worker" })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Create key" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: /^Revoke / })).toHaveCount(0);
  await nav(viewer).getByRole("link", { name: "Schedules" }).click();
  await expect(viewer.getByRole("heading", { name: "Schedules", exact: true })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "New schedule" })).toHaveCount(0);
  // A page typed in by hand says whose it is instead of failing
  await viewer.goto("/users");
  await expect(viewer.getByText("This page is for admins of the tenant; your role is viewer.")).toBeVisible();
  await viewer.goto("/jobs/new");
  await expect(viewer.getByRole("button", { name: "Submit job" })).toHaveCount(0);
  await shot(viewer, "jobs-new-viewer");

  // The admin makes them a member: from their next page on, they may submit
  await row.getByRole("combobox", { name: `Role of ${username}` }).selectOption("member");
  await expect(row.getByRole("status")).toHaveText("Now member.");
  await viewer.goto("/");
  await expect(nav(viewer).getByRole("link", { name: "New job" })).toBeVisible();
  await expect(nav(viewer).getByRole("link", { name: "Users" })).toHaveCount(0);
  await viewerContext.close();

  // Reset their password, then delete them (asks once more)
  await row.getByRole("button", { name: `Reset password of ${username}` }).click();
  await row.getByRole("textbox", { name: `New password for ${username}` }).fill("another long password");
  await row.getByRole("button", { name: "Set" }).click();
  await expect(row.getByRole("status")).toContainText("Password set");
  await row.getByRole("button", { name: `Delete ${username}` }).click();
  await row.getByRole("button", { name: "Yes, delete" }).click();
  await expect(row).toHaveCount(0);
});

test("a user changes their own password and stays signed in with the new token", async ({ page, browser }) => {
  // Given a member made by the admin
  await logIn(page);
  await nav(page).getByRole("link", { name: "Users" }).click();
  const username = unique("e2e-member");
  const form = page.getByRole("form", { name: "New user" });
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill("first password 1");
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("row", { name: `User ${username}` })).toBeVisible();

  // When they change it from their account page
  const context = await browser.newContext();
  const member = await context.newPage();
  await logIn(member, { username, password: "first password 1" });
  await member.getByRole("link", { name: `${username} member`, exact: true }).click();
  await expect(member.getByRole("heading", { name: "Account" })).toBeVisible();
  await member.getByLabel("Current password").fill("first password 1");
  await member.getByLabel("New password", { exact: true }).fill(`x-${username}-x`);
  await member.getByLabel("New password, again").fill(`x-${username}-x`);
  await member.getByRole("button", { name: "Change password" }).click();
  await expect(member.getByRole("alert")).toContainText("must not contain the username");
  await member.getByLabel("Current password").fill("wrong password");
  await member.getByLabel("New password", { exact: true }).fill("second password 2");
  await member.getByLabel("New password, again").fill("second password 2");
  await member.getByRole("button", { name: "Change password" }).click();
  await expect(member.getByRole("alert")).toContainText("the current password is wrong");
  await member.getByLabel("Current password").fill("first password 1");
  await member.getByLabel("New password", { exact: true }).fill("second password 2");
  await member.getByLabel("New password, again").fill("second password 2");
  await member.getByRole("button", { name: "Change password" }).click();
  await expect(member.getByRole("status")).toContainText("Password changed");
  await shot(member, "account");

  // Then this session goes on (the new token was kept), across a reload
  await member.reload();
  await nav(member).getByRole("link", { name: "Jobs" }).click();
  await expect(member.getByRole("heading", { name: "Jobs", exact: true })).toBeVisible();
  await expect(member).toHaveURL(/\/jobs$/);
  await context.close();
  // And the new password is the one that signs in
  const again = await browser.newContext();
  const fresh = await again.newPage();
  await logIn(fresh, { username, password: "second password 2" });
  await again.close();
});
