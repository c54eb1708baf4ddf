"""The system roles, declared once. `manage.py seed_permissions` makes the database match.

Permissions are `app_label.codename` names or shell-style patterns over them
(`products.*`). A pattern matches the permissions that exist when the command runs, so a
role declared here picks up an app's permissions as soon as that app is installed and
migrated; run the command again after adding one (`make run` and the container entrypoint
always do).
"""

from dataclasses import dataclass, field


class SystemRole:
    """The names of the system roles, spelled once: other apps name a role they rely on from here
    (`users_with_role(SystemRole.PROVIDER)`). Plain strings, as group names are."""

    ADMIN = "admin"
    MANAGER = "manager"
    PROVIDER = "provider"
    CUSTOMER = "customer"


DEFAULT_ROLE = SystemRole.CUSTOMER


@dataclass(frozen=True)
class RoleSpec:
    description: str
    permissions: tuple[str, ...] = field(default_factory=tuple)


SYSTEM_ROLES: dict[str, RoleSpec] = {
    SystemRole.ADMIN: RoleSpec(
        description="Runs the product: every permission there is.",
        permissions=("*",),
    ),
    SystemRole.MANAGER: RoleSpec(
        description="Manages the catalog and every booking, sees users and statistics.",
        permissions=(
            "products.*",
            # Every booking, and the providers themselves (`bookings.manage_providers`: providers/).
            "bookings.*",
            "notifications.view_*",
            "accounts.view_user",
            "analytics.view_loginevent",
            "logs.view_auditlog",
        ),
    ),
    SystemRole.PROVIDER: RoleSpec(
        description="Provides services: manages their own bookings and schedule.",
        permissions=(
            # The catalog, not its stock ledger: movements name staff and carry internal notes.
            "products.view_category",
            "products.view_product",
            "bookings.view_booking",
            "bookings.change_booking",
            "bookings.confirm_booking",
            # Their own weekly schedule (providers/me/working-hours/); availability (a provider's,
            # and availability/ across providers) is public.
            "bookings.*_workinghours",
            # Their own profile: time zone and the services they offer (providers/me/).
            "bookings.view_providerprofile",
            "bookings.change_providerprofile",
            # Their own days off and changed hours (providers/me/schedule-exceptions/).
            "bookings.*_scheduleexception",
        ),
    ),
    SystemRole.CUSTOMER: RoleSpec(
        description="Every registered user: books services and manages their own data only.",
        permissions=(
            "products.view_category",
            "products.view_product",
            "bookings.view_booking",
            "bookings.add_booking",
            "bookings.change_booking",
        ),
    ),
}
