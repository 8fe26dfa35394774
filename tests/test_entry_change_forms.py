"""An entry's amend and retract forms, brought in only when opened.

The client page's timeline offers "Amend" and "Retract" on the organization's
own entries; each form comes from its own URL, as an htmx fragment swapped into
the opened panel or, without JavaScript, as a page of its own (docs/web.md).
The amend form carries the entry's text, so fetching it goes through the gate
and the engine and is audited like any read of the record.
"""

import re

import pytest

from core.models import AccessEvent
from records import services as record_services
from records.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, dr_lee):
    client.force_login(dr_lee)
    return client


def htmx(target: str) -> dict:
    """The headers htmx 4 sends for a swap into #target (`tag#id`)."""
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": f"div#{target}"}


def reads_of(ana, actor) -> list[str]:
    """The actor's access events on Ana, as a sorted list of their actions."""
    return sorted(
        AccessEvent.objects.filter(client=ana, actor=actor).values_list("action", flat=True)
    )


def test_the_timeline_offers_the_forms_without_rendering_them(web, ana, note):
    page = web.get(f"/clients/{ana.pk}/").content.decode()
    for verb in ("amend", "retract"):
        url = f"/clients/{ana.pk}/entries/{note.pk}/{verb}/"
        # A panel that fetches its form when opened, and a link that works without it.
        assert f'hx-get="{url}"' in page
        assert f'data-draft-for="{url}"' in page
        assert f'hx-target="#{verb}-form-{note.pk}"' in page
        assert f'<a href="{url}">' in page
        # No form of the entry's on the page itself.
        assert f'action="{url}"' not in page
        assert f'name="{verb}-{note.pk}-' not in page


def test_the_amend_fragment_is_the_form_with_the_entry_text_and_is_audited(web, ana, dr_lee, note):
    before = reads_of(ana, dr_lee)
    response = web.get(
        f"/clients/{ana.pk}/entries/{note.pk}/amend/", **htmx(f"amend-form-{note.pk}")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<h1" not in html  # the fragment, not a page
    assert f'action="/clients/{ana.pk}/entries/{note.pk}/amend/"' in html
    assert f'name="amend-{note.pk}-title"' in html and 'value="PHQ-9 of 17"' in html
    assert "Low mood.</textarea>" in html
    assert "data-keep-draft" in html and "csrfmiddlewaretoken" in html
    assert reads_of(ana, dr_lee) == sorted([*before, "entry.read"])


def test_the_retract_fragment_asks_why_and_confirms(web, ana, note):
    html = web.get(
        f"/clients/{ana.pk}/entries/{note.pk}/retract/", **htmx(f"retract-form-{note.pk}")
    ).content.decode()
    assert f'name="retract-{note.pk}-reason"' in html
    assert 'data-confirm="Retract this entry?' in html
    assert "Retract entry</button>" in html
    assert "Low mood" not in html  # the retract form shows none of the text


def test_without_htmx_the_form_is_a_page_of_its_own(web, ana, note):
    response = web.get(f"/clients/{ana.pk}/entries/{note.pk}/amend/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Amend an entry of Ana Silva</h1>" in html
    assert re.search(r'<h2 id="entry-change-heading"[^>]*>PHQ-9 of 17</h2>', html)
    assert f'href="/clients/{ana.pk}/#entry-{note.pk}"' in html
    assert 'value="PHQ-9 of 17"' in html


def test_a_rejected_amendment_comes_back_on_its_page_and_changes_nothing(web, ana, note):
    response = web.post(
        f"/clients/{ana.pk}/entries/{note.pk}/amend/",
        {f"amend-{note.pk}-title": "", f"amend-{note.pk}-body": "Typed before the error."},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Typed before the error.</textarea>" in html  # what was typed is kept
    assert "<h1>Amend an entry of Ana Silva</h1>" in html
    assert list(Entry.objects.filter(client=ana).values_list("title", flat=True)) == ["PHQ-9 of 17"]
    note.refresh_from_db()
    assert note.superseded_at is None


def test_an_entry_on_a_later_timeline_page_is_amended_from_its_own_page(web, ana, dr_lee, note):
    """The timeline shows fifty entries a page; the form of an older one and its
    errors are as reachable as those of the newest."""
    for n in range(50):
        record_services.add_entry(
            provider=dr_lee, client=ana, category="general_health", kind="note", title=f"n{n}"
        )
    assert f"entry-{note.pk}" not in web.get(f"/clients/{ana.pk}/").content.decode()
    assert f'hx-get="/clients/{ana.pk}/entries/{note.pk}/amend/"' in (
        web.get(f"/clients/{ana.pk}/?page=2").content.decode()
    )
    rejected = web.post(
        f"/clients/{ana.pk}/entries/{note.pk}/amend/", {f"amend-{note.pk}-title": "x" * 10_000}
    )
    assert rejected.status_code == 400
    assert "Ensure this value has at most" in rejected.content.decode()
    saved = web.post(
        f"/clients/{ana.pk}/entries/{note.pk}/amend/",
        {f"amend-{note.pk}-title": "PHQ-9 of 15", f"amend-{note.pk}-body": "Corrected."},
    )
    assert saved.status_code == 302
    assert Entry.objects.get(amends=note).title == "PHQ-9 of 15"


def test_another_organization_that_reads_the_entry_gets_no_form(
    client, ana, intake_kim, note, centre_reads_mental_health
):
    client.force_login(intake_kim)
    assert "PHQ-9 of 17" in client.get(f"/clients/{ana.pk}/").content.decode()
    for verb in ("amend", "retract"):
        url = f"/clients/{ana.pk}/entries/{note.pk}/{verb}/"
        response = client.get(url, **htmx(f"{verb}-form-{note.pk}"))
        assert response.status_code == 403
        assert "Only the organization that wrote an entry" in response.content.decode()
        assert "Low mood" not in response.content.decode()
    assert "entry.read" not in reads_of(ana, intake_kim)


def test_an_entry_consent_withholds_or_a_client_off_the_case_is_not_found(
    client, ana, emp_jo, outsider, note
):
    """emp_jo is on Ana's care team but consent withholds mental health from the
    employment service; the outsider's organization is not on the case."""
    for reader in (emp_jo, outsider):
        client.force_login(reader)
        for verb in ("amend", "retract"):
            url = f"/clients/{ana.pk}/entries/{note.pk}/{verb}/"
            for headers in ({}, htmx(f"{verb}-form-{note.pk}")):
                response = client.get(url, **headers)
                assert response.status_code == 404
                assert "Low mood" not in response.content.decode()
                assert "PHQ-9" not in response.content.decode()
        assert "entry.read" not in reads_of(ana, reader)


def test_an_amended_version_or_a_retracted_entry_has_no_form_and_shows_no_text(
    web, ana, dr_lee, note
):
    newest = record_services.amend_entry(provider=dr_lee, entry=note, title="PHQ-9 of 15")
    for verb, said in (
        ("amend", "This version was amended since; amend the newest version instead."),
        ("retract", "This version was amended since; retract the newest version instead."),
    ):
        for headers in ({}, htmx(f"{verb}-form-{note.pk}")):
            response = web.get(f"/clients/{ana.pk}/entries/{note.pk}/{verb}/", **headers)
            assert response.status_code == 409
            html = response.content.decode()
            assert said in html
            assert '<form method="post" action="/clients/' not in html
    record_services.retract_entry(provider=dr_lee, entry=newest, reason="Wrong client")
    for verb, said in (
        ("amend", "This entry was retracted; it cannot be amended."),
        ("retract", "This entry is already retracted."),
    ):
        response = web.get(f"/clients/{ana.pk}/entries/{newest.pk}/{verb}/")
        assert response.status_code == 409
        html = response.content.decode()
        assert said in html
        # A retracted entry's readers see a tombstone, never its text.
        assert "PHQ-9 of 15" not in html and "Low mood" not in html
        assert "Nothing to " + verb in html
