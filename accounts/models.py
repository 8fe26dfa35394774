"""Credentials and sign-in attempts."""

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.utils import timezone
from knox.models import AbstractAuthToken, AuthTokenManager


class DeviceTokenManager(AuthTokenManager):
    """knox's manager, with the read a request authenticates by."""

    def presented(self, token_key: str) -> list["DeviceToken"]:
        """The tokens with this key, each with its account and the account's
        organization (every request of a provider asks for it: the consent
        engine reads its sector): the instances
        `select_related("user__organization").filter(token_key=…)` reads, from
        a statement written once per process.

        Every API request reads its token first, and through the queryset
        Django builds and compiles the two-level join each time: 1.5–1.7 ms of
        a timeline's request for the token, 0.8 with this read
        (docs/performance.md, "Province scale", change 28). No library reads
        a row with its related rows without building a query per call. The
        statement is made from the three models' own fields, and each value
        passes through the converters Django applies when it reads;
        `tests/test_accounts_tokens.py` holds every field to the queryset's."""
        connection = connections[self.db]
        statement, parts = _presented_statement(self.db)
        with connection.cursor() as cursor:
            cursor.execute(statement, [token_key])
            rows = cursor.fetchall()
        tokens = []
        for row in rows:
            token, account, organization = (part.instance(row, self.db) for part in parts)
            parts[0].to_next.set_cached_value(token, account)
            parts[1].to_next.set_cached_value(account, organization)
            tokens.append(token)
        return tokens


class DeviceToken(AbstractAuthToken):
    """An API token of one device or script (django-rest-knox's token, swapped in
    with KNOX_TOKEN_MODEL): only its SHA-512 digest is stored, it expires after
    CARELINK_TOKEN_HOURS, and it is bound to the password it was issued under.

    `credential` is an HMAC of the provider's password hash when the token was
    issued. Every way of changing a password (the sign-in pages, the admin,
    `manage.py changepassword`, a shell) goes through `set_password`, which
    writes a new salted hash, so a token issued before the change no longer
    matches and is refused — the same mechanism that ends Django's sessions on a
    password change, with no signal and nothing in `Provider.save()`.
    """

    credential = models.CharField(max_length=64, editable=False)

    objects = DeviceTokenManager()

    class Meta:
        verbose_name = "device token"


class FailedAttempt(models.Model):
    """One failed attempt (a sign-in, later a portal activation) from one address,
    for the per-address throttle (accounts.throttle).

    In the database, not a cache: every gunicorn worker must see the same count,
    and the embedded deployment (SQLite, no Redis) has no cache its workers share.
    Rows older than the throttle's window are pruned as new ones are written."""

    scope = models.CharField(max_length=32)
    # An IPv4 or IPv6 address as django-axes reads it (the one its lockout uses).
    address = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["scope", "address", "at"], name="failed_attempt_window"),
            models.Index(fields=["at"], name="failed_attempt_at"),
        ]


@dataclass(frozen=True)
class _Columns:
    """One model's columns in the presented-token statement: where they start
    in a row, their fields and converters, and the foreign key to the next
    model (the token's account, the account's organization)."""

    model: type[models.Model]
    start: int
    attnames: tuple[str, ...]
    pk_index: int
    converters: tuple[tuple[tuple[Any, Any], ...], ...]
    to_next: Any

    def instance(self, row: tuple, db: str) -> models.Model | None:
        """Its columns of a row as an instance; None for the empty side of
        the LEFT JOIN (an account of no organization)."""
        values = list(row[self.start : self.start + len(self.attnames)])
        if values[self.pk_index] is None:
            return None
        connection = connections[db]
        for index, converters in enumerate(self.converters):
            for converter, column in converters:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(db, self.attnames, values)


@functools.cache
def _presented_statement(db: str) -> tuple[str, tuple[_Columns, ...]]:
    """The token, its account (settings.AUTH_USER_MODEL) and the account's
    organization, joined as `select_related("user__organization")` joins them."""
    connection = connections[db]
    quote = connection.ops.quote_name
    account = DeviceToken._meta.get_field("user")
    organization = account.related_model._meta.get_field("organization")
    chain = (
        (DeviceToken, "t", account),
        (account.related_model, "u", organization),
        (organization.related_model, "o", None),
    )
    parts, selected, start = [], [], 0
    for model, alias, to_next in chain:
        fields = tuple(model._meta.concrete_fields)
        converters = []
        for field in fields:
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            converters.append(tuple((converter, column) for converter in found))
            selected.append(f"{alias}.{quote(field.column)}")
        attnames = tuple(field.attname for field in fields)
        pk_index = fields.index(model._meta.pk)
        parts.append(_Columns(model, start, attnames, pk_index, tuple(converters), to_next))
        start += len(fields)
    token, user, group = (model._meta for model, _, _ in chain)
    statement = (
        f"SELECT {', '.join(selected)} FROM {quote(token.db_table)} t "
        f"INNER JOIN {quote(user.db_table)} u "
        f"ON u.{quote(user.pk.column)} = t.{quote(account.column)} "
        f"LEFT OUTER JOIN {quote(group.db_table)} o "
        f"ON o.{quote(group.pk.column)} = u.{quote(organization.column)} "
        f"WHERE t.{quote(token.get_field('token_key').column)} = %s"
    )
    return statement, tuple(parts)
