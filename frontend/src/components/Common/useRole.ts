import { can as allowed, type Permission } from "../../lib/roles";
import { useMe } from "./useMe";

/** The signed-in user's role, and what it allows: the one place pages ask before they offer. */
export function useRole() {
  const { data: me } = useMe();
  return { me, role: me?.role, can: (what: Permission) => allowed(me, what) };
}
