"""The users a token may act as, read at most once per few seconds per API process."""

import time
from dataclasses import dataclass

from beanie import PydanticObjectId

from jobrunner_api.documents import Role, User

ROLE_RANK: dict[Role, int] = {"viewer": 0, "member": 1, "admin": 2}


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    tenant_id: str
    role: Role
    platform_admin: bool
    token_generation: int

    def may(self, role: Role) -> bool:
        """Whether this account has `role` or one above it."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class Accounts:
    """User lookups for authentication, cached for `max_age` seconds.

    Why cached: every request is authenticated, and a read per request would be the API's
    commonest query. A change made through this process is seen at once (forget); one made
    through another API process within `max_age`.
    """

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._cache: dict[str, tuple[float, Account | None]] = {}

    async def get(self, user_id: str) -> Account | None:
        now = time.monotonic()
        hit = self._cache.get(user_id)
        if hit is not None and now - hit[0] < self.max_age:
            return hit[1]
        user = await User.get(PydanticObjectId(user_id)) if PydanticObjectId.is_valid(user_id) \
            else None
        account = None if user is None else Account(
            user_id=user_id, username=user.username, tenant_id=user.tenant_id, role=user.role,
            platform_admin=user.is_platform_admin, token_generation=user.token_generation)
        if len(self._cache) > 10_000:  # Why: bounded memory whatever tokens are presented
            self._cache.clear()
        self._cache[user_id] = (now, account)
        return account

    def forget(self, user_id: str) -> None:
        self._cache.pop(user_id, None)
