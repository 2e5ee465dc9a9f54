"""Date normalisation: dates written in many human formats, to be rewritten as ISO 8601.

A small "translation" task with a known answer and a readable alignment (chapter 12): the
target "1994-03-03" is built from pieces scattered through the source, "3rd of March 1994",
"03/03/94" or "Thursday, March 3, 1994", in a different order for each format. Dates come
from the standard library's calendar (``datetime``, ``calendar``), nothing is downloaded.
Two-digit years are read as 1950-2049.
"""

import calendar
import datetime

__all__ = ["FORMATS", "format_date", "dates", "SOURCE_CHARS", "TARGET_CHARS"]


def _ordinal(d):
    return f"{d}{'th' if 10 <= d % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


#: name -> function of a ``datetime.date`` giving the written form.
FORMATS = {
    "ordinal": lambda t: f"{_ordinal(t.day)} of {calendar.month_name[t.month]} {t.year}",
    "dmy_slash": lambda t: f"{t.day:02d}/{t.month:02d}/{t.year % 100:02d}",
    "us_long": lambda t: f"{calendar.month_name[t.month]} {t.day}, {t.year}",
    "us_abbr": lambda t: f"{calendar.month_abbr[t.month]} {t.day} {t.year}",
    "weekday": lambda t: f"{calendar.day_name[t.weekday()]}, {calendar.month_name[t.month]} "
                         f"{t.day}, {t.year}",
    "dmy_dots": lambda t: f"{t.day}.{t.month}.{t.year}",
    "day_month": lambda t: f"{t.day} {calendar.month_abbr[t.month].lower()} {t.year}",
    "iso": lambda t: t.isoformat(),
}

SOURCE_CHARS = " ,-./0123456789" + "".join(sorted(set(
    "".join(calendar.month_name[1:]) + "".join(calendar.day_name) + "stndrdhof"
    + "".join(calendar.month_abbr[1:]).lower())))
TARGET_CHARS = "-0123456789"


def format_date(date, fmt):
    """Write ``date`` (a ``datetime.date``) in the format named ``fmt`` (a key of FORMATS)."""
    return FORMATS[fmt](date)


def dates(n, rng, formats=None, first=datetime.date(1950, 1, 1),
          last=datetime.date(2049, 12, 31)):
    """Draw ``n`` (written date, ISO date) pairs, days uniform between ``first`` and ``last``.

    Args:
        n: number of pairs.
        rng: a ``numpy.random.Generator``.
        formats: names of the formats to draw from, uniformly; None: all but "iso".
    Returns:
        list of n ``(source, "YYYY-MM-DD")`` string pairs.
    """
    names = [f for f in FORMATS if f != "iso"] if formats is None else list(formats)
    span = (last - first).days + 1
    days = rng.integers(0, span, size=n)
    which = rng.integers(0, len(names), size=n)
    out = []
    for d, k in zip(days, which, strict=True):
        t = first + datetime.timedelta(days=int(d))
        out.append((format_date(t, names[k]), t.isoformat()))
    return out
