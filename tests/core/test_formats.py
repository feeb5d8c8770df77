"""String formats by their RFCs' own examples: date-time (RFC 3339), email (RFC 5321/5322/3696), http-date
(RFC 9110 IMF-fixdate, the RFC 1123 form Wilson uses)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest

from chat_contracts.core.formats import FORMATS, format_checker, is_date_time, is_email, is_http_date, parse_timestamp

# RFC 3339 section 5.8, every example, and what section 5.6 allows ("T" and "Z" in lower case).
RFC3339_VALID = [
    "1985-04-12T23:20:50.52Z",
    "1996-12-19T16:39:57-08:00",
    "1990-12-31T23:59:60Z",  # a leap second
    "1990-12-31T15:59:60-08:00",  # the same leap second, in Pacific time
    "1937-01-01T12:00:27.87+00:20",  # Netherlands time
    "1985-04-12t23:20:50.52z",
    "2023-12-01T05:00:00.401Z",  # Whop's own form
]
RFC3339_INVALID = [
    "1985-04-12 23:20:50.52Z",  # the ABNF's "T" (a space is only a note for other standards)
    "1985-04-12T23:20:50.52",  # no offset: local time is not a date-time
    "1985-04-12T23:20:50+0800",  # the offset needs its colon
    "1985-04-12T23:20:50.Z",  # a fraction needs digits
    "1985-04-12T23:20:50,52Z",
    "85-04-12T23:20:50Z",
    "1985-13-12T23:20:50Z",
    "1985-02-29T23:20:50Z",  # not a leap year
    "1985-04-12T24:00:00Z",
    "1990-12-31T23:58:60Z",  # a leap second only ends a day (in UTC)
    "1990-12-31T23:59:61Z",
    "1985-04-12T23:20:50.52Z\n",
    "Sun, 06 Nov 1994 08:49:37 GMT",
]


@pytest.mark.parametrize("value", RFC3339_VALID)
def test_rfc3339_examples_are_date_times(value: str) -> None:
    assert is_date_time(value)
    assert parse_timestamp("date-time", value).tzinfo is not None


@pytest.mark.parametrize("value", RFC3339_INVALID)
def test_not_date_times(value: str) -> None:
    assert not is_date_time(value)


def test_a_leap_second_is_the_second_after_23_59_59() -> None:
    assert parse_timestamp("date-time", "1990-12-31T23:59:60Z") == datetime(1991, 1, 1, tzinfo=UTC)
    assert parse_timestamp("date-time", "1990-12-31T15:59:60-08:00") == datetime(1991, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("9999-12-31T23:59:60Z", True),  # valid to write; the moment after it is year 10000
        ("9999-12-31T23:59:60-01:00", False),  # 00:59:60 in UTC: no leap second
        ("0001-01-01T00:59:60+01:00", True),  # 23:59:60 UTC on the day before year 1
        ("0001-01-01T00:00:60+23:59", False),
    ],
)
def test_timestamps_at_the_ends_of_time_are_judged_without_overflow(value: str, valid: bool) -> None:
    """A provider's answer may hold any of these: a verdict or a ValueError, never an OverflowError."""
    assert is_date_time(value) is valid
    with contextlib.suppress(ValueError):
        parse_timestamp("date-time", value)


# RFC 3696 section 3 (with its errata: backslashes only inside quotes), RFC 5321/5322 syntax.
EMAIL_VALID = [
    '"Abc@def"@example.com',
    '"Fred Bloggs"@example.com',
    '"Joe\\\\Blow"@example.com',
    "customer/department=shipping@example.com",
    "$A12345@example.com",
    "!def!xyz%abc@example.com",
    "_somename@example.com",
    "ana@40factory.com",
    "user@[192.168.2.1]",  # RFC 5321 address literal
    "user@[IPv6:2001:db8::1]",
    "ana@example",  # a domain of one label is valid syntax (no DNS is consulted)
    "x" * 64 + "@example.com",
]
EMAIL_INVALID = [
    "ops..team@x.com",  # two dots in a row: dot-atom (RFC 5322 section 3.2.3)
    ".ana@x.com",
    "ana.@x.com",
    "Abc.example.com",
    "A@b@c@example.com",
    'a"b(c)d,e:f;g<h>i[j\\k]l@example.com',
    'just"not"right@example.com',
    'this is"not\\allowed@example.com',
    "Abc\\@def@example.com",  # RFC 3696 errata 246: a backslash outside quotes
    "Fred\\ Bloggs@example.com",
    "Ana Lopez",
    "a b@c.de",
    "ana@-x.com",
    "ana@example.com.",
    "user@[192.168.2.300]",
    "x" * 65 + "@example.com",  # RFC 5321 section 4.5.3.1.1: 64 octets at most
    "ana@example.com\n",
]


@pytest.mark.parametrize("value", EMAIL_VALID)
def test_rfc_email_examples_are_valid(value: str) -> None:
    assert is_email(value)


@pytest.mark.parametrize("value", EMAIL_INVALID)
def test_not_emails(value: str) -> None:
    assert not is_email(value)


# RFC 9110 section 5.6.7: the preferred IMF-fixdate, and the two obsolete forms a sender must not send.
HTTP_DATE_VALID = [
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Thu, 12 Jun 2024 06:22:39 GMT",  # Wilson's own example: 12 June 2024 was a Wednesday
    "Mon, 06 Nov 1994 08:49:37 GMT",  # decision: the weekday is not checked against the date
    "Sat, 31 Dec 2016 23:59:60 GMT",  # "00:00:00 - 23:59:60 (leap second)"
    "Thu, 29 Feb 2024 00:00:00 GMT",
]
HTTP_DATE_INVALID = [
    "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850 format
    "Sun Nov  6 08:49:37 1994",  # ANSI C asctime() format
    "Sun, 6 Nov 1994 08:49:37 GMT",  # day = 2DIGIT
    "sun, 06 nov 1994 08:49:37 GMT",  # day-name and month are case-sensitive
    "Sun, 06 Nov 1994 08:49:37 gmt",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 06 Nov 1994 08:49:37 +0000",
    "Sun, 31 Nov 1994 08:49:37 GMT",
    "Thu, 29 Feb 2023 00:00:00 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sat, 31 Dec 2016 23:58:60 GMT",
    "Sun, \u0660\u0666 Nov 1994 08:49:37 GMT",  # Arabic-Indic digits
    "Sun, 06 Nov 1994 08:49:37 GMT\n",
    "06 Nov 1994 08:49:37 GMT",
    "1994-11-06T08:49:37Z",
]


@pytest.mark.parametrize("value", HTTP_DATE_VALID)
def test_rfc9110_imf_fixdates_are_http_dates(value: str) -> None:
    assert is_http_date(value)
    assert parse_timestamp("http-date", value).tzinfo == UTC


@pytest.mark.parametrize("value", HTTP_DATE_INVALID)
def test_not_http_dates(value: str) -> None:
    assert not is_http_date(value)
    with pytest.raises(ValueError):
        parse_timestamp("http-date", value)


def test_http_date_parses_to_its_moment() -> None:
    assert parse_timestamp("http-date", "Sun, 06 Nov 1994 08:49:37 GMT") == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parse_timestamp("http-date", "Sat, 31 Dec 2016 23:59:60 GMT") == datetime(2017, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_formats_constrain_strings_only_and_are_registered(name: str) -> None:
    assert FORMATS[name](42) and FORMATS[name](None)
    checker = format_checker()
    assert name in checker.checkers
    assert not checker.conforms("not a " + name, name)
