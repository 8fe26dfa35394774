"""The measures pages: the questionnaire (one radio group per item, score and
severity on save, field errors and nothing saved on bad input), the client
page's trend chart and safety banner (only what the viewer may see), and the
organization's registry page (docs/measures.md)."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from consent.services import record_consent
from core.models import AccessEvent
from measures import services
from measures.models import Assessment
from records.models import Entry
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


class Collect(HTMLParser):
    """The page's legends, radio labels' inputs and elements by id, without a
    DOM library."""

    def __init__(self) -> None:
        super().__init__()
        self.legends: list[str] = []
        self.radios: list[dict] = []
        self.ids: set[str] = set()
        self.badges: list[str] = []
        self._in_legend = False
        self._in_badge = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "legend":
            self._in_legend = True
            self.legends.append("")
        if tag == "input" and attrs.get("type") == "radio":
            self.radios.append(attrs)
        if tag == "span" and "badge" in (attrs.get("class") or "").split():
            self._in_badge = True
            self.badges.append("")

    def handle_endtag(self, tag):
        if tag == "legend":
            self._in_legend = False
        if tag == "span":
            self._in_badge = False

    def handle_data(self, data):
        if self._in_legend:
            self.legends[-1] += data
        if self._in_badge:
            self.badges[-1] += data


def parse(response) -> Collect:
    collected = Collect()
    collected.feed(response.content.decode())
    return collected


def form_url(client, instrument="phq9") -> str:
    return f"/clients/{client.pk}/assessments/new/?instrument={instrument}"


def answers_data(answers) -> dict:
    return {f"item_{n}": str(value) for n, value in enumerate(answers, start=1)}


@pytest.fixture
def shared(ana, dr_lee):
    record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        categories=["mental_health"],
        grantee_sector="mental_health",
    )
    return ana


# --- the questionnaire ----------------------------------------------------------------


def test_the_questionnaire_has_one_radio_group_per_item(client, ana, dr_lee):
    client.force_login(dr_lee)
    page = parse(client.get(form_url(ana)))
    assert len(page.legends) == 9
    assert page.legends[0].strip() == "1. Little interest or pleasure in doing things"
    assert page.legends[8].strip().startswith("9. Thoughts that you would be better off dead")
    assert len(page.radios) == 36
    assert {r["name"] for r in page.radios} == {f"item_{n}" for n in range(1, 10)}
    html = client.get(form_url(ana)).content.decode()
    for label in ("Not at all", "Several days", "More than half the days", "Nearly every day"):
        assert html.count(label) == 9
    gad = parse(client.get(form_url(ana, "gad7")))
    assert len(gad.legends) == 7 and len(gad.radios) == 28
    assert AccessEvent.objects.filter(client=ana, action="client.read", channel="web").exists()


def test_saving_shows_the_score_and_severity(client, ana, dr_lee):
    client.force_login(dr_lee)
    response = client.post(form_url(ana), answers_data([2, 2, 2, 2, 2, 2, 2, 2, 0]), follow=True)
    assert response.redirect_chain[-1][0].endswith(f"/clients/{ana.pk}/#measures")
    html = response.content.decode()
    assert "PHQ-9 recorded for Ana Silva: score 16 of 27, moderately severe." in html
    assert Assessment.objects.get().score == 16


def test_missing_answers_are_shown_by_item_and_nothing_is_saved(client, ana, dr_lee):
    client.force_login(dr_lee)
    data = answers_data([1, 1, 1, 1, 1, 1, 1])  # items 8 and 9 missing
    before = (Entry.objects.count(), Assessment.objects.count())
    response = client.post(form_url(ana), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "2 questions still need an answer. Nothing was saved." in html
    assert html.count("Choose an answer to this question.") == 2
    # The error belongs to its group: the fieldset is described by it, its radios invalid.
    assert 'aria-describedby="id_item_8_error"' in html
    assert re.search(r'name="item_9" value="0"[^>]*aria-invalid="true"', html)
    assert not re.search(r'name="item_1" value="0"[^>]*aria-invalid', html)
    # What was answered stays chosen.
    assert re.search(r'name="item_1" value="1"[^>]*checked', html)
    assert (Entry.objects.count(), Assessment.objects.count()) == before


def test_an_answer_off_the_scale_and_a_future_time_are_refused(client, ana, dr_lee):
    client.force_login(dr_lee)
    data = answers_data([1] * 9) | {"item_3": "7"}
    assert client.post(form_url(ana), data).status_code == 400
    later = (timezone.localtime() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(form_url(ana), answers_data([1] * 9) | {"administered_at": later})
    assert response.status_code == 400
    assert "An assessment cannot be in the future." in response.content.decode()
    assert Assessment.objects.count() == 0


def test_an_unknown_instrument_is_a_400_page(client, ana, dr_lee):
    client.force_login(dr_lee)
    response = client.get(form_url(ana, "phq15"))
    assert response.status_code == 400
    assert "is not an instrument" in response.content.decode()


# --- the client page: chart and banner -------------------------------------------------


def test_the_chart_shows_only_what_the_viewer_may_see(client, shared, dr_lee, intake_kim, emp_jo):
    now = timezone.now()
    for days, answers in ((60, [3] * 8 + [0]), (30, [2] * 8 + [0]), (2, [1] * 8 + [0])):
        services.record_assessment(
            provider=dr_lee,
            client=shared,
            instrument="phq9",
            answers=answers,
            administered_at=now - days * DAY,
        )
    services.record_assessment(
        provider=intake_kim, client=shared, instrument="gad7", answers=[2] * 7
    )

    client.force_login(intake_kim)
    html = client.get(f"/clients/{shared.pk}/").content.decode()
    page = parse(client.get(f"/clients/{shared.pk}/"))
    assert {"trend-phq9", "trend-gad7", "measures"} <= page.ids
    phq = html[html.index('id="trend-phq9"') : html.index('id="trend-gad7"')]
    assert '<svg class="trend-chart"' in phq and "<title id=" in phq and "<desc id=" in phq
    assert phq.count('<circle class="trend-point"') == 3
    assert phq.count('class="band band-') == 5
    assert "PHQ-9: 3 scores from" in phq and "first 24 (severe), latest 8 (mild)" in phq
    assert "67% lower than the first" in phq
    assert phq.count("<tr>") + phq.count('<tr class="safety-row">') == 4  # header + 3 rows
    assert "<script" not in phq and "http" not in phq.split("<svg", 1)[1].split("</svg>")[0]

    # The family doctor does not see the centre's GAD-7: no chart, and the notice says so.
    client.force_login(dr_lee)
    lee = client.get(f"/clients/{shared.pk}/").content.decode()
    assert 'id="trend-phq9"' in lee and 'id="trend-gad7"' not in lee
    assert "1 questionnaire score is not shown because of the client" in lee

    # The employment counsellor sees no score and no instrument's name.
    client.force_login(emp_jo)
    jo = client.get(f"/clients/{shared.pk}/").content.decode()
    assert "trend-chart" not in jo and "PHQ-9" not in jo and "GAD-7" not in jo
    assert "4 questionnaire scores are not shown because of the client" in jo


def test_the_safety_banner_is_for_those_who_may_see_it(client, shared, dr_lee, intake_kim, emp_jo):
    services.record_assessment(
        provider=dr_lee,
        client=shared,
        instrument="phq9",
        answers=[1, 1, 1, 1, 1, 1, 1, 1, 2],
        administered_at=timezone.now() - DAY,
    )
    client.force_login(intake_kim)
    html = client.get(f"/clients/{shared.pk}/").content.decode()
    banner = html[html.index('id="safety-alert"') :].split("</div>", 1)[0]
    assert (
        'role="alert"'
        in html[html.index('id="safety-alert"') - 60 : html.index('id="safety-alert"')]
    )
    assert "Safety alert — PHQ-9 item 9 answered above 0" in banner
    assert "More than half the days" in banner
    assert "Dr. Daniel Lee, Riverside Family Practice" in banner
    # Banner first on the page, above the columns.
    assert html.index('id="safety-alert"') < html.index('id="measures"')
    assert '<path class="trend-point trend-point-safety"' in html

    client.force_login(emp_jo)
    jo = client.get(f"/clients/{shared.pk}/").content.decode()
    assert "safety-alert" not in jo and "Safety alert" not in jo

    # A later PHQ-9 answering item 9 with 0 is the current picture: no banner.
    services.record_assessment(
        provider=dr_lee, client=shared, instrument="phq9", answers=[1] * 8 + [0]
    )
    client.force_login(intake_kim)
    assert 'id="safety-alert"' not in client.get(f"/clients/{shared.pk}/").content.decode()


# --- the registry page ------------------------------------------------------------------


@pytest.fixture
def caseload(db, intake_kim, mh_centre):
    now = timezone.now()
    series = [
        ("Improving", [(40, 20), (3, 8)]),  # response
        ("Stuck", [(80, 15), (60, 15), (4, 16)]),  # not improving
        ("Lost", [(50, 14)]),  # no follow-up
        ("Well", [(50, 10), (5, 3)]),  # remission
        ("Started", [(6, 17)]),  # in treatment
    ]
    made = {}
    for name, points in series:
        person = ClientFactory(given_name=name, family_name="Case", registered_by=intake_kim)
        for days, score in points:
            answers = []
            for _ in range(9):
                answers.append(min(3, score))
                score -= answers[-1]
            services.record_assessment(
                provider=intake_kim,
                client=person,
                instrument="phq9",
                answers=answers,
                administered_at=now - days * DAY,
            )
        made[name] = person
    return made


def test_registry_page_lists_who_is_not_improving_first(client, intake_kim, caseload):
    client.force_login(intake_kim)
    before = AccessEvent.objects.count()
    response = client.get("/registry/?instrument=phq9")
    html = response.content.decode()
    names = re.findall(r'<th scope="row"><a href="/clients/[^"]+/">Case, (\w+)</a>', html)
    assert names == ["Stuck", "Lost", "Started", "Improving", "Well"]
    page = parse(response)
    assert page.badges == ["Not improving", "No follow-up", "In treatment", "Response", "Remission"]
    for status in ("not_improving", "no_follow_up", "in_treatment", "response", "remission"):
        assert re.search(rf'id="summary-{status}">1<', html), status
    assert "Registry</a>" in html  # in the navigation
    assert AccessEvent.objects.count() - before == 5
    newest = AccessEvent.objects.order_by("-at")[:5].values_list("action", "channel", "client_id")
    assert {(action, channel) for action, channel, _ in newest} == {("registry.read", "web")}
    assert {client_id for *_, client_id in newest} == {c.pk for c in caseload.values()}


def test_registry_status_filter_and_its_htmx_part(client, intake_kim, caseload):
    client.force_login(intake_kim)
    html = client.get("/registry/?instrument=phq9&status=response").content.decode()
    assert re.findall(r">Case, (\w+)</a>", html) == ["Improving"]
    assert re.search(r'id="summary-not_improving">1<', html)  # the summary stays whole
    part = client.get(
        "/registry/?instrument=phq9&status=remission",
        headers={"HX-Request": "true", "HX-Target": "section#registry"},
    ).content.decode()
    assert part.lstrip().startswith("<section") or 'id="registry"' in part.split(">", 2)[1]
    assert "<html" not in part and re.findall(r">Case, (\w+)</a>", part) == ["Well"]
    assert client.get("/registry/?instrument=phq9&status=astrology").status_code == 400


def test_registry_page_is_for_providers_only(client, sysadmin):
    client.force_login(sysadmin)
    assert client.get("/registry/").status_code == 403
