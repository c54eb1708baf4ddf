from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from apps.roles.backends import forget_everyone, forget_user

User = get_user_model()


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="roles.forget_on_user_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="roles.forget_on_user_permissions")
def forget_changed_users(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:  # user.groups.add(...): instance is the user
        forget_user(instance.pk)
    elif action == "post_clear":  # group.user_set.clear(): which users is not known any more
        forget_everyone()
    else:  # group.user_set.add(...): pk_set holds the users
        for user_id in pk_set or ():
            forget_user(user_id)


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="roles.forget_on_group_permissions")
def forget_on_group_permission_change(sender, action, **kwargs):
    if action.startswith("post_"):
        forget_everyone()


@receiver(post_save, sender=Group, dispatch_uid="roles.forget_on_group_save")
def forget_on_group_rename(sender, created, **kwargs):
    # A group's name is what `role_names` caches; a new group has no members yet.
    if not created:
        forget_everyone()


@receiver(post_delete, sender=Group, dispatch_uid="roles.forget_on_group_delete")
def forget_on_group_delete(sender, **kwargs):
    forget_everyone()


@receiver(post_save, sender=User, dispatch_uid="roles.forget_on_user_save")
def forget_on_user_save(sender, instance, created, update_fields=None, **kwargs):
    # is_superuser and is_active decide before the cached set is even read; clear anyway so a
    # demoted superuser's set is rebuilt from the database.
    if not created and (update_fields is None or {"is_superuser", "is_active"} & set(update_fields)):
        forget_user(instance.pk)
