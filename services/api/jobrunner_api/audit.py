"""The audit log (SPEC §3): who did what to which object, written by the request that did it.

Each entry is written before the request answers, so an answered action is in the log. An
action that failed validation or was refused (403, 404, 409) is not an action and is not
logged; a failed login is.
"""

from enum import StrEnum

from jobrunner_api.deps import Caller
from jobrunner_api.documents import AuditEntry


class Action(StrEnum):
    login = "login"
    login_failed = "login.failed"
    password_change = "password.change"
    api_key_create = "api_key.create"
    api_key_revoke = "api_key.revoke"
    secret_set = "secret.set"
    secret_delete = "secret.delete"
    user_create = "user.create"
    user_update = "user.update"
    user_delete = "user.delete"
    schedule_create = "schedule.create"
    schedule_update = "schedule.update"
    schedule_delete = "schedule.delete"
    schedule_trigger = "schedule.trigger"
    job_cancel = "job.cancel"
    job_rerun = "job.rerun"
    worker_drain = "worker.drain"
    worker_delete = "worker.delete"


async def record(caller: Caller, action: Action, target: str = "") -> None:
    await AuditEntry(tenant_id=caller.tenant_id, actor=caller.username, action=action,
                     target=target, address=caller.address).insert()


async def record_many(caller: Caller, action: Action, targets: list[str]) -> None:
    """One entry per target (a bulk cancel, say), in one write."""
    if targets:
        await AuditEntry.insert_many([
            AuditEntry(tenant_id=caller.tenant_id, actor=caller.username, action=action,
                       target=t, address=caller.address) for t in targets])


async def record_login(tenant_id: str, username: str, address: str | None, *,
                       succeeded: bool) -> None:
    await AuditEntry(tenant_id=tenant_id, actor=username, address=address,
                     action=Action.login if succeeded else Action.login_failed,
                     target=username).insert()
