"""Operators (the user model), their roles and teams, and sign-in lockouts."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    OPERATOR = "operator", _("Operator")


class User(AbstractUser):
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.OPERATOR, verbose_name=_("role")
    )
    # The language of the operator's pages; "" follows their browser (Accept-Language).
    language = models.CharField(
        max_length=8, blank=True, default="", db_default="", verbose_name=_("language")
    )
    # The IANA time zone the operator's pages show times in; "" follows their browser.
    # Which notifications they want, where (inbox.notifications.settings says the shape).
    notification_settings = models.JSONField(
        default=dict, blank=True, verbose_name=_("notification settings")
    )
    time_zone = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("time zone")
    )

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def sees_all_conversations(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR) or self.is_superuser

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    # New conversations filed under the team go to its online member with the fewest open
    # conversations, below the limit when there is one (see inbox.services).
    auto_assign = models.BooleanField(default=False, verbose_name=_("assign automatically"))
    auto_assign_limit = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("open conversations per operator")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class LoginLockout(models.Model):
    """A username or a client address locked out of signing in after too many failures
    (see inbox.login_throttle); kept for admins to see, and to lift early."""

    class Scope(models.TextChoices):
        USERNAME = "username", _("Username")
        ADDRESS = "address", _("Address")

    scope = models.CharField(max_length=16, choices=Scope.choices, verbose_name=_("scope"))
    value = models.CharField(max_length=255, verbose_name=_("value"))
    via = models.CharField(max_length=32, verbose_name=_("via"))
    locked_until = models.DateTimeField(verbose_name=_("locked until"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("login lockout")
        verbose_name_plural = _("login lockouts")
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.value}"
