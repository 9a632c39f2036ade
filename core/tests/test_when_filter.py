from datetime import UTC, date, datetime

from django.template import Context, Template
from django.utils import timezone, translation

from core.templatetags.when import when

MOMENT = datetime(2026, 12, 3, 15, 46, 7, tzinfo=UTC)


def test_english_writes_the_month_first_on_a_twelve_hour_clock():
    with translation.override("en"):
        assert when(MOMENT) == "Dec 3, 2026, 3:46\u202fPM"
        assert when(MOMENT, "date") == "Dec 3, 2026"
        assert when(MOMENT, "long") == "December 3, 2026"
        assert when(MOMENT, "seconds") == "Dec 3, 2026, 3:46:07\u202fPM"
        assert when(MOMENT, "zone") == "Dec 3, 2026, 3:46\u202fPM UTC"


def test_german_writes_the_day_first_on_a_24_hour_clock():
    with translation.override("de"):
        assert when(MOMENT) == "03.12.2026, 15:46"
        assert when(MOMENT, "date") == "03.12.2026"
        assert when(MOMENT, "seconds") == "03.12.2026, 15:46:07"
        assert when(MOMENT, "long") == "3. Dezember 2026"


def test_the_time_is_the_active_time_zones():
    with translation.override("de"), timezone.override("Europe/Berlin"):
        assert when(MOMENT, "zone") == "03.12.2026, 16:46 CET"


def test_a_date_has_no_time_and_nothing_renders_nothing():
    with translation.override("de"):
        assert when(date(2026, 1, 2)) == "02.01.2026"
    assert when(None) == when("") == ""


def test_templates_use_it_by_name():
    template = Template('{% load when %}{{ moment|when }} / {{ moment|when:"date" }}')
    with translation.override("de"):
        assert template.render(Context({"moment": MOMENT})) == "03.12.2026, 15:46 / 03.12.2026"
