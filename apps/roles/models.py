from django.contrib.auth.models import Group
from django.db import models

from apps.core.models import TimeStampedModel


class Role(TimeStampedModel):
    """What a Django Group means here: a named set of permissions given to users.

    The role shares its primary key with its group, so a role's id is its group's id.
    """

    group = models.OneToOneField(Group, on_delete=models.CASCADE, primary_key=True, related_name="role")
    description = models.CharField(max_length=500, blank=True)
    is_system = models.BooleanField(
        default=False,
        help_text="Defined in code, kept in shape by `seed_permissions`; cannot be renamed or deleted.",
    )

    class Meta:
        ordering = ["group__name"]
        indexes = [models.Index(fields=["is_system"], name="roles_role_system_idx")]

    def __str__(self) -> str:
        return self.group.name

    @property
    def name(self) -> str:
        return self.group.name
