"""Shared records: the base model, users, organisations and local authorities.

The register's own models (people, entries, ratings, consent) join this module as they are built.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property

from dsr.history import audited
from dsr.roles import PERMISSIONS, Role
from dsr.security.scoping import ScopedQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class LocalAuthority(TimeStampedModel):
    """A local authority (upper tier or unitary) that people on the register live in."""

    name = models.CharField(max_length=120, unique=True)
    gss_code = models.CharField(
        "GSS code",
        max_length=9,
        unique=True,
        help_text="The ONS Government Statistical Service code, for example E10000020.",
    )

    history = audited()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "local authorities"

    def __str__(self) -> str:
        return self.name


class OrganisationQuerySet(ScopedQuerySet):
    scope_path = "local_authorities"
    scope_is_many = True


class Organisation(TimeStampedModel):
    """An organisation whose staff use the register, and the local authorities it covers.

    Scope (ACCESS.md): an ICB covers all of its local authorities, a local authority covers
    itself, a trust covers those it serves. A user sees a person only when the person's local
    authority is one their organisation covers.
    """

    class Kind(models.TextChoices):
        ICB = "icb", "Integrated care board"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        NHS_TRUST = "nhs_trust", "NHS trust"
        EDUCATION = "education", "Education setting"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ods_code = models.CharField("ODS code", max_length=10, blank=True)
    local_authorities = models.ManyToManyField(
        LocalAuthority,
        related_name="organisations",
        blank=True,
        help_text="The local authorities whose people this organisation's staff may see.",
    )

    history = audited(m2m_fields=[local_authorities])

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: email and password, then a TOTP second factor."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    job_title = models.CharField(max_length=150, blank=True)
    phone = models.CharField("work phone number", max_length=30, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        "may use the admin site",
        default=False,
        help_text="Administrators only. Clinical records are never registered in the admin.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    history = audited(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        permissions = list(PERMISSIONS.items())

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @cached_property
    def roles(self) -> list[Role]:
        """The roles this user holds, in the order of ACCESS.md (read once per request)."""
        held = {group.name for group in self.groups.all()}
        return [role for role in Role if role.label in held]

    def has_role(self, role: Role) -> bool:
        return role in self.roles


class Heartbeat(models.Model):
    """When a scheduled job last ran; the health page reports it. Bookkeeping, not audited."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
