"""Login throttling (SPEC §3): failed logins counted per username and per client address.

Counted in MongoDB so that the limit holds however many API processes share the logins: one
document per key and fixed window, `$inc`ed with an upsert (exact under concurrency). While a
key is at its limit, logins for it are answered 429 until its window ends, the password not
even checked (argon2 is the dearest thing a login does).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobrunner_api.documents import LoginFailures
from jobrunner_shared.messages import utcnow


@dataclass(frozen=True)
class Limit:
    key: str  # e.g. "user:alice"
    max_failures: int


class LoginThrottle:
    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds

    def _window(self, now: datetime) -> tuple[int, datetime]:
        number = math.floor(now.timestamp() / self.window)
        end = datetime.fromtimestamp((number + 1) * self.window, tz=now.tzinfo)
        return number, end

    def _id(self, limit: Limit, now: datetime) -> str:
        return f"{limit.key}:{self._window(now)[0]}"

    async def retry_after(self, limits: list[Limit], now: datetime | None = None) -> int | None:
        """Seconds until a login may be tried again, or None if none of `limits` is reached."""
        now = now or utcnow()
        ids = {self._id(lim, now): lim for lim in limits}
        found = LoginFailures.get_pymongo_collection().find({"_id": {"$in": list(ids)}})
        for doc in await found.to_list():
            if doc["failures"] >= ids[doc["_id"]].max_failures:
                return max(1, math.ceil((self._window(now)[1] - now).total_seconds()))
        return None

    async def failed(self, limits: list[Limit], now: datetime | None = None) -> None:
        now = now or utcnow()
        _, end = self._window(now)
        collection = LoginFailures.get_pymongo_collection()
        for limit in limits:
            await collection.update_one(
                {"_id": self._id(limit, now)},
                {"$inc": {"failures": 1}, "$setOnInsert": {"expires_at": end}}, upsert=True)

    async def succeeded(self, limit: Limit, now: datetime | None = None) -> None:
        """A right password clears its username's count (not its address's)."""
        await LoginFailures.get_pymongo_collection().delete_one(
            {"_id": self._id(limit, now or utcnow())})

    @staticmethod
    async def delete_expired(now: datetime | None = None) -> int:
        result = await LoginFailures.get_pymongo_collection().delete_many(
            {"expires_at": {"$lt": (now or utcnow()) - timedelta(seconds=1)}})
        return result.deleted_count
