"""Admin users: creation and sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from pingyi.db.tables import ADMIN_ROLES, AdminUser, Staff, Unit
from pingyi.security import hash_password, verify_password
from pingyi.services import audit

# Compared against when the user does not exist, so a wrong username costs as much
# time as a wrong password and the response time does not reveal which it was.
_DUMMY_HASH = hash_password("not-a-real-password")


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class SignedIn:
    id: int
    username: str
    role: str
    display_name: str
    staff_id: int | None
    unit_id: int | None

    def as_session(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "display_name": self.display_name,
            "staff_id": self.staff_id,
            "unit_id": self.unit_id,
        }


async def create_user(
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    staff_code: str | None = None,
    unit_code: str | None = None,
    actor: str = "cli",
) -> int:
    username = username.strip()
    if not username:
        raise UserError("username must not be empty")
    if role not in ADMIN_ROLES:
        raise UserError(f"role must be one of: {', '.join(ADMIN_ROLES)}")
    if len(password) < 10:
        raise UserError("password must be at least 10 characters long")
    if await AdminUser.exists().where(AdminUser.username == username):
        raise UserError(f"user {username!r} already exists")
    staff_id = unit_id = None
    if staff_code:
        staff = await Staff.select(Staff.id, Staff.unit).where(Staff.code == staff_code).first()
        if staff is None:
            raise UserError(f"no staff member with code {staff_code!r}")
        staff_id, unit_id = staff["id"], staff["unit"]
    if unit_code:
        unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first()
        if unit is None:
            raise UserError(f"no unit with code {unit_code!r}")
        unit_id = unit["id"]
    if role == "staff" and staff_id is None:
        raise UserError("a staff login needs --staff CODE (the staff member it belongs to)")
    if role == "unit_leader" and unit_id is None:
        raise UserError("a unit_leader login needs --unit CODE (the unit it looks after)")
    rows = await AdminUser.insert(
        AdminUser(
            username=username,
            password_hash=hash_password(password),
            role=role,
            display_name=display_name or username,
            staff=staff_id,
            unit=unit_id,
        )
    )
    await audit.record(actor, "user.create", f"user:{username}", after={"role": role})
    return int(rows[0]["id"])


async def authenticate(username: str, password: str) -> SignedIn | None:
    row = (
        await AdminUser.select()
        .where((AdminUser.username == username.strip()) & AdminUser.active.eq(True))
        .first()
    )
    if row is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(row["password_hash"], password):
        return None
    return SignedIn(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        display_name=row["display_name"],
        staff_id=row["staff"],
        unit_id=row["unit"],
    )
