"""The access log and the history of consent decisions cannot be rewritten, even
by SQL typed into a database shell: PostgreSQL triggers refuse it."""

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from consent.models import ConsentDirective, ConsentDirectiveCategory
from consent.services import record_consent, revoke_consent
from core.audit import Action, record_access
from core.models import AccessEvent


def raw(connection, sql: str, *params) -> None:
    """One statement, as a shell would send it, in its own savepoint."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def directive(ana, dr_lee):
    return record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["housing"],
        grantee_sector="housing",
    )


def test_access_events_refuse_update_and_delete(postgresql, ana, dr_lee):
    record_access(dr_lee, ana, Action.CLIENT_READ)
    event = AccessEvent.objects.filter(actor=dr_lee, action="client.read").get()
    for sql in (
        "UPDATE core_accessevent SET action = 'nothing' WHERE id = %s",
        "UPDATE core_accessevent SET emergency = true WHERE id = %s",
        "DELETE FROM core_accessevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="access_event_append_only"):
            raw(postgresql, sql, event.pk)
    assert AccessEvent.objects.get(pk=event.pk).action == "client.read"
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    assert AccessEvent.objects.filter(pk=event.pk).exists()


def test_a_directive_is_never_deleted_nor_changed_but_by_one_revocation(
    postgresql, directive, dr_lee
):
    for sql in (
        "DELETE FROM consent_consentdirective WHERE id = %s",
        "UPDATE consent_consentdirective SET effect = 'deny' WHERE id = %s",
        "UPDATE consent_consentdirective SET expires_at = now() + interval '1 day' WHERE id = %s",
        "UPDATE consent_consentdirective SET grantee_sector = 'hospital' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="directive_"):
            raw(postgresql, sql, directive.pk)
    revoke_consent(provider=dr_lee, directive=directive)  # the one change allowed
    revoked = ConsentDirective.objects.get(pk=directive.pk)
    assert revoked.revoked_at is not None and revoked.effect == "permit"
    with pytest.raises(DatabaseError, match="directive_revoked_once"):
        raw(
            postgresql,
            "UPDATE consent_consentdirective SET revoked_at = NULL WHERE id = %s",
            directive.pk,
        )
    assert ConsentDirective.objects.get(pk=directive.pk).revoked_at == revoked.revoked_at


def test_a_directives_categories_are_fixed(postgresql, directive):
    row = ConsentDirectiveCategory.objects.get(directive=directive)
    for sql in (
        "UPDATE consent_consentdirectivecategory SET category = 'mental_health' WHERE id = %s",
        "DELETE FROM consent_consentdirectivecategory WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="directive_category_fixed"):
            raw(postgresql, sql, row.pk)
    assert directive.categories == ["housing"]


def test_inserting_stays_possible(postgresql, ana, dr_lee):
    """The triggers guard history, not new rows: the audit keeps writing."""
    before = AccessEvent.objects.count()
    record_access(dr_lee, [ana], Action.CLIENT_LIST)
    assert AccessEvent.objects.count() == before + 1
    assert AccessEvent.objects.latest("at").at <= timezone.now()
