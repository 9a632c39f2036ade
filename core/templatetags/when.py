"""`{{ moment|when }}`: a date and time as a reader of the active language writes it.

The one place customer-facing dates become text: Babel knows each locale's order, month
names and clock ("Dec 3, 2026, 3:46 PM" in English, "03.12.2026, 15:46" in German), so no
template spells a format out. The time is shown in the active time zone, as Django's own
`date` filter does. `<time datetime="{{ moment|date:'c' }}">` keeps the machine form.
"""

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date, format_time
from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, to_locale

register = template.Library()

# Each style's Babel date and time formats (None: no time).
STYLES = {
    "": ("medium", "short"),
    "date": ("medium", None),
    "long": ("long", None),
    "seconds": ("medium", "medium"),
    "zone": ("medium", "short"),
}


@register.filter
def when(moment: date | datetime | None, style: str = "") -> str:
    """Format `moment` for the active locale: `|when` date, hours and minutes;
    `|when:"date"` the date alone; `|when:"long"` the date with the month's name in full;
    `|when:"seconds"` with seconds (an order's timeline); `|when:"zone"` with the time
    zone's name (emails, read anywhere)."""
    if moment is None or moment == "":
        return ""
    locale = Locale.parse(to_locale(get_language() or settings.LANGUAGE_CODE))
    if isinstance(moment, datetime) and timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    date_format, time_format = STYLES[style]
    day = format_date(moment, date_format, locale=locale)
    if time_format is None or not isinstance(moment, datetime):
        return day
    time = format_time(moment, time_format, locale=locale)
    if style == "zone":
        time = f"{time} {moment.tzname()}"
    return locale.datetime_formats["medium"].format(time, day)
