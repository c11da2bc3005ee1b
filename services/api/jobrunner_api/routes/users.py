"""A tenant's users and their roles (SPEC §3), managed by its admins."""

from beanie import PydanticObjectId
from fastapi import APIRouter, HTTPException, status
from pymongo.errors import DuplicateKeyError

from jobrunner_api import audit
from jobrunner_api.deps import AdminDep, CallerDep, PlatformDep
from jobrunner_api.documents import User
from jobrunner_api.responses import NoEchoRoute, errors
from jobrunner_api.schemas import UserIn, UserOut, UserPatch
from jobrunner_api.security import hash_password, password_problem

router = APIRouter(tags=["users"], route_class=NoEchoRoute)


def policy(password: str, username: str) -> None:
    if problem := password_problem(password, username):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problem)


async def tenant_user(user_id: str, tenant_id: str) -> User:
    user = await User.get(PydanticObjectId(user_id)) if PydanticObjectId.is_valid(user_id) \
        else None
    if user is None or user.tenant_id != tenant_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="user not found")
    return user


async def keep_an_admin(user: User, tenant_id: str) -> None:
    """A tenant is never left without an admin: nobody could manage its users again."""
    if user.role == "admin" and await User.find(
        User.tenant_id == tenant_id, User.role == "admin"
    ).count() <= 1:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail="the tenant's last admin cannot be removed or demoted")


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=errors(403, 409))
async def create_user(body: UserIn, caller: AdminDep) -> UserOut:
    policy(body.password, body.username)
    try:
        user = await User(username=body.username, password_hash=hash_password(body.password),
                          tenant_id=caller.tenant_id, role=body.role).insert()
    except DuplicateKeyError:
        # Usernames are unique on the whole platform: login takes no tenant.
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"username {body.username!r} is taken") from None
    await audit.record(caller, audit.Action.user_create, f"{user.username} ({user.role})")
    return UserOut.of(user)


@router.get("/users")
async def list_users(caller: CallerDep) -> list[UserOut]:
    """The tenant's users, by username."""
    users = User.find(User.tenant_id == caller.tenant_id).sort(+User.username)
    return [UserOut.of(u) async for u in users]


@router.get("/users/{user_id}", responses=errors(404))
async def get_user(user_id: str, caller: CallerDep) -> UserOut:
    return UserOut.of(await tenant_user(user_id, caller.tenant_id))


@router.patch("/users/{user_id}", responses=errors(403, 404, 409))
async def update_user(
    user_id: str, body: UserPatch, caller: AdminDep, platform: PlatformDep
) -> UserOut:
    """Change a user's role, or set a new password for them (their tokens end)."""
    user = await tenant_user(user_id, caller.tenant_id)
    update: dict = {}
    changes = []
    if body.role is not None and body.role != user.role:
        if body.role != "admin":
            if user.is_platform_admin:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    detail="the platform admin (ADMIN_USERNAME) stays an admin")
            await keep_an_admin(user, caller.tenant_id)
        update["$set"] = {"role": body.role}
        changes.append(f"role {user.role} → {body.role}")
    if body.password is not None:
        policy(body.password, user.username)
        update.setdefault("$set", {})["password_hash"] = hash_password(body.password)
        update["$inc"] = {"token_generation": 1}
        changes.append("password set")
    if update:
        await User.get_pymongo_collection().update_one({"_id": user.id}, update)
        platform.accounts.forget(user_id)
        await audit.record(caller, audit.Action.user_update,
                           f"{user.username}: {', '.join(changes)}")
    return UserOut.of(await tenant_user(user_id, caller.tenant_id))


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404, 409))
async def delete_user(user_id: str, caller: AdminDep, platform: PlatformDep) -> None:
    """Delete a user; their tokens are refused from then on."""
    user = await tenant_user(user_id, caller.tenant_id)
    if user.is_platform_admin:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail="the platform admin (ADMIN_USERNAME) cannot be deleted")
    await keep_an_admin(user, caller.tenant_id)
    await user.delete()
    platform.accounts.forget(user_id)
    await audit.record(caller, audit.Action.user_delete, user.username)
