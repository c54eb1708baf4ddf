from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()-]{5,30}$",
    "Enter a phone number of digits, spaces, dashes or brackets, e.g. +44 20 7946 0958.",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    # Case-insensitive matches use LOWER(), exactly like the unique constraints, so they agree
    # with them on every character (UPPER()-based iexact does not: a dotless i matches "i") and
    # use their indexes.
    def with_email(self, email: str):
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.strip().lower())

    def with_username(self, username: str):
        return self.alias(username_lower=Lower("username")).filter(username_lower=username.strip().lower())

    def get_by_natural_key(self, email: str):
        return self.with_email(email).get()

    def _create_user(self, email: str, username: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("Users must have an email address.")
        if not username:
            raise ValueError("Users must have a username.")
        user = self.model(email=self.normalize_email(email), username=username, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, username: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, username, password, **extra_fields)

    def create_superuser(self, email: str, username: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, username, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    # unique=True satisfies Django's auth checks; the case-insensitive constraint below is the real rule.
    email = models.EmailField("email address", max_length=254, unique=True)
    username = models.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="150 characters or fewer: letters, digits and @ . + - _ only.",
    )
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True, validators=[phone_validator])
    is_active = models.BooleanField(
        default=True, help_text="Unticked, the user can no longer sign in and their tokens stop working."
    )
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin site.")
    email_verified_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        ordering = ["id"]
        permissions = [("manage_roles", "Can manage roles and assign them to users")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that email already exists.",
            ),
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ]
        indexes = [models.Index(fields=["date_joined"], name="accounts_user_joined_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.username
