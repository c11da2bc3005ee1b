import { describeExpiry } from "./expiry";

const now = Date.parse("2026-12-02T12:00:00Z");

describe("describeExpiry", () => {
  it("says a key without expiry never expires", () => {
    expect(describeExpiry({ expires_at: null, expired: false }, now)).toEqual({ text: "never expires", expired: false });
  });
  it("says when a key will expire", () => {
    const key = { expires_at: "2026-12-05T13:00:00Z", expired: false };
    expect(describeExpiry(key, now)).toMatchObject({ text: "expires in 3d 1h", expired: false });
  });
  it("says a key expired, by the API's word or the clock", () => {
    expect(describeExpiry({ expires_at: "2026-12-02T11:00:00Z", expired: true }, now)).toMatchObject({ text: "expired 1h ago", expired: true });
    expect(describeExpiry({ expires_at: "2026-12-02T11:59:00Z", expired: false }, now)).toMatchObject({ text: "expired 1m ago", expired: true });
  });
});
