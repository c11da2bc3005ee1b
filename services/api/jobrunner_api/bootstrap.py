"""First start: the default tenant and its admin, who is also the platform admin."""

import logging

from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import Tenant, User
from jobrunner_api.security import hash_password
from jobrunner_api.settings import Settings

log = logging.getLogger(__name__)


async def ensure_admin(settings: Settings) -> None:
    tenant = await Tenant.find_one(Tenant.name == settings.default_tenant)
    if tenant is None:
        try:
            tenant = await Tenant(name=settings.default_tenant).insert()
        except DuplicateKeyError:  # another API process won the race
            tenant = await Tenant.find_one(Tenant.name == settings.default_tenant)
    assert tenant is not None
    if await User.find_one(User.username == settings.admin_username) is None:
        try:
            await User(
                username=settings.admin_username,
                password_hash=hash_password(settings.admin_password),
                tenant_id=str(tenant.id),
                is_platform_admin=True,
            ).insert()
            log.info("created admin user %r in tenant %r", settings.admin_username, tenant.name)
        except DuplicateKeyError:
            pass
