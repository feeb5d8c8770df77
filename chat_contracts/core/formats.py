"""String formats the contracts use, checked for real.

jsonschema checks `date-time` and `email` only when optional packages are installed, and knows nothing
of `http-date`; a contract suite must not pass a malformed timestamp because a dependency is missing.
So every format our contracts name is registered here, and checked by a well-kept library where one
exists: `date-time` by rfc3339-validator (RFC 3339 section 5.6, the library jsonschema itself uses),
`email` by email-validator (RFC 5321/5322 syntax, no DNS). `http-date` (RFC 1123 as Wilson writes it,
the IMF-fixdate of RFC 9110 section 5.6.7) has no such library, so it is ours and is tested against
the RFCs' own examples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jsonschema
from email_validator import EmailNotValidError, validate_email
from rfc3339_validator import validate_rfc3339

# RFC 9110 IMF-fixdate (the RFC 1123 form), always in GMT; ASCII digits only ("٠٦" is no day), and
# nothing after it (`\Z`: `$` would let a trailing newline through).
_HTTP_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT\Z",
    re.ASCII,
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A date-time whose seconds are 60: RFC 3339 section 5.7 allows a leap second (rfc3339-validator does not).
_LEAP_SECOND = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}):60((?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))\Z", re.ASCII)


def _leap_second_base(text: str) -> datetime | None:
    """For a valid date-time at a leap second (23:59:60 in UTC), the moment one second before it."""
    match = _LEAP_SECOND.match(text)
    if match is None:
        return None
    before = f"{match.group(1)}:59{match.group(2)}"
    if not validate_rfc3339(before):
        return None
    moment = datetime.fromisoformat(before.replace("Z", "+00:00"))
    offset = moment.utcoffset() or timedelta()
    # The time of day in UTC, by arithmetic on the day's minutes: a moment near year 1 or 9999 may have
    # no UTC datetime of its own (astimezone would overflow), and is still a valid date-time.
    utc_minutes = (moment.hour * 60 + moment.minute - int(offset.total_seconds()) // 60) % (24 * 60)
    return moment if utc_minutes == 23 * 60 + 59 else None


def is_date_time(value: object) -> bool:
    """RFC 3339 `date-time`, e.g. ``2023-12-01T05:00:00.401Z`` ("T" and "Z" may be lower case: section 5.6).

    A leap second (``1990-12-31T23:59:60Z``, or the same moment at another offset) is valid, as in the
    RFC's own examples (section 5.8); the date is not checked against the table of leap seconds.
    """
    if not isinstance(value, str):
        return True  # formats only constrain strings; `type` speaks for the rest
    text = value.upper()
    if text.endswith("\n"):  # rfc3339-validator's pattern ends with `$`, which lets one through
        return False
    return bool(validate_rfc3339(text)) or _leap_second_base(text) is not None


def is_http_date(value: object) -> bool:
    """RFC 1123 date in GMT, e.g. ``Thu, 12 Jun 2024 06:22:39 GMT``.

    The weekday is not checked against the date: the Wilson page's own examples get it wrong. A leap
    second (23:59:60) is valid, as RFC 9110 section 5.6.7 allows.
    """
    if not isinstance(value, str):
        return True
    try:
        _http_date(value)
    except ValueError:
        return False
    return True


def _http_date(value: str) -> datetime:
    match = _HTTP_DATE.match(value)
    if match is None:
        raise ValueError(f"not an RFC 1123 date: {value!r}")
    _, day, month_name, year, hour, minute, second = match.groups()
    leap = second == "60" and (hour, minute) == ("23", "59")
    numbers = int(year), _MONTHS.index(month_name) + 1, int(day), int(hour), int(minute), 59 if leap else int(second)
    return datetime(*numbers, tzinfo=UTC) + timedelta(seconds=leap)


def is_email(value: object) -> bool:
    """An address by RFC 5321/5322 syntax (quoted local parts and address literals included; no DNS)."""
    if not isinstance(value, str):
        return True
    try:
        validate_email(
            value,
            check_deliverability=False,
            allow_quoted_local=True,
            allow_domain_literal=True,
            globally_deliverable=False,
            strict=True,  # the local part's 64-octet limit (RFC 5321 section 4.5.3.1.1)
        )
    except EmailNotValidError:
        return False
    return True


def parse_timestamp(fmt: str, value: str) -> datetime:
    """A timestamp valid for `fmt` (``date-time`` or ``http-date``) as an aware datetime; ValueError for
    one that datetime cannot hold."""
    if fmt == "http-date":
        return _http_date(value)
    text = value.upper()
    leap = _leap_second_base(text)
    try:
        if leap is not None:  # 23:59:60 is the second after 23:59:59
            return leap + timedelta(seconds=1)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except OverflowError:  # the second after 9999-12-31T23:59:59: valid to write, beyond what datetime holds
        raise ValueError(f"{value!r} is past the last moment a datetime can hold") from None


FORMATS: dict[str, Callable[[object], bool]] = {
    "date-time": is_date_time,
    "http-date": is_http_date,
    "email": is_email,
}


def format_checker() -> jsonschema.FormatChecker:
    """jsonschema's checker with our versions of the formats the contracts use."""
    checker = jsonschema.FormatChecker()
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return checker
