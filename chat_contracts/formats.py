"""String formats the contracts use, checked for real.

jsonschema only checks `date-time` when an optional package is installed and knows nothing of
`http-date`; a contract suite must not pass a malformed timestamp because a dependency is missing,
so every format our contracts name is implemented here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import jsonschema

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# RFC 9110 IMF-fixdate (the RFC 1123 form), always in GMT.
_HTTP_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def is_date_time(value: object) -> bool:
    """RFC 3339 `date-time`, e.g. ``2023-12-01T05:00:00.401Z``."""
    if not isinstance(value, str):
        return True  # formats only constrain strings; `type` speaks for the rest
    match = _RFC3339.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    offset = match.group(8)
    if offset not in ("Z", "z") and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return False
    return _is_real_moment(year, month, day, hour, minute, min(second, 59))


def is_http_date(value: object) -> bool:
    """RFC 1123 date in GMT, e.g. ``Thu, 12 Jun 2024 06:22:39 GMT``.

    The weekday is not checked against the date: the Wilson page's own examples get it wrong.
    """
    if not isinstance(value, str):
        return True
    match = _HTTP_DATE.match(value)
    if not match:
        return False
    _, day, month_name, year, hour, minute, second = match.groups()
    month = datetime.strptime(month_name, "%b").month
    return _is_real_moment(int(year), month, int(day), int(hour), int(minute), int(second))


def is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def _is_real_moment(year: int, month: int, day: int, hour: int, minute: int, second: int) -> bool:
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def parse_timestamp(fmt: str, value: str) -> datetime:
    """A timestamp valid for `fmt` (``date-time`` or ``http-date``) as an aware datetime."""
    if fmt == "http-date":
        return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


FORMATS: dict[str, Callable[[object], bool]] = {
    "date-time": is_date_time,
    "http-date": is_http_date,
    "email": is_email,
}


def format_checker() -> jsonschema.FormatChecker:
    """jsonschema's checker with our strict versions of the formats the contracts use."""
    checker = jsonschema.FormatChecker()
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return checker
