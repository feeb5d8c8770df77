"""The contract suite's options, declared once for both front ends: pytest (`--contract-*`) and the CLI.

Every option is namespaced (`--contract-provider`, not `--provider`), matches its `CONTRACT_*`
variable where it has one, and checks its value where it is parsed: a bad value is one line and a
usage error, before anything is sent.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from chat_contracts.provider.profiles import PROFILES


def number(kind: type, low: float, high: float, what: str) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` within [low, high], else one line saying the range."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what}")
        return value

    return parse


def field_value(text: str) -> tuple[str, Any]:
    """NAME=VALUE; VALUE is read as JSON when it is JSON ("null", "true"), else taken as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return name.strip(), parsed


@dataclass(frozen=True)
class Option:
    name: str  # the part after --contract-
    help: str
    env: str | None = None
    type: Callable[[str], Any] | None = None
    default: Any = None
    metavar: str | None = None
    choices: Collection[str] | None = None
    repeat: bool = False

    @property
    def flag(self) -> str:
        return "--contract-" + self.name

    @property
    def dest(self) -> str:
        return "contract_" + self.name.replace("-", "_")

    def add_to(self, add: Callable[..., Any], *, prefix: str = "--contract-") -> None:
        """Declare this option with an argparse-like `add` (pytest's `addoption` or argparse's `add_argument`)."""
        kwargs: dict[str, Any] = {"dest": self.dest, "help": self.help, "default": self.default}
        if self.repeat:
            kwargs |= {"action": "append", "default": []}
        if self.type is not None:
            kwargs["type"] = self.type
        if self.metavar:
            kwargs["metavar"] = self.metavar
        if self.choices is not None:
            kwargs["choices"] = self.choices
        add(prefix + self.name, **kwargs)


class _ProviderNames:
    """The registry's provider names, read when argparse first checks or lists them: declaring the option
    in every pytest session must not load the registry (and the YAML and JSON Schema libraries)."""

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @staticmethod
    def _names() -> tuple[str, ...]:
        from chat_contracts.core.registry import provider_names

        return provider_names()


OPTIONS: tuple[Option, ...] = (
    Option("provider", "provider to verify (default: every one, on the built-in mocks)", "CONTRACT_PROVIDER",
           choices=_ProviderNames(), metavar="NAME"),
    Option("base-url", "a live implementation's base URL, API prefix included (e.g. https://api.whop.com/api/v1)",
           "CONTRACT_BASE_URL", metavar="URL"),
    Option("token", "its bearer token (better: the CONTRACT_TOKEN variable, which stays out of shell history)",
           "CONTRACT_TOKEN", metavar="TOKEN"),
    Option("chat-id", "an existing chat the run may update; it is put back as found", "CONTRACT_CHAT_ID", metavar="ID"),
    Option("field", "the current value of a field the response does not show, so a live run may set it and put it "
           "back (repeatable), e.g. current_company_id=biz_XXXX", type=field_value, metavar="NAME=VALUE", repeat=True),
    Option("api-version", "the API version header's value (default: the one the pinned contract documents)",
           metavar="VALUE"),
    Option("seed", "seed of the random search (default: random, printed in the header)",
           type=number(int, 0, 2**32 - 1, "0 to 4294967295"), metavar="N"),
    Option("profile", "how far the random search goes: dev (fast, default), ci, nightly", choices=tuple(PROFILES),
           default="dev"),
    Option("max-requests", "hard cap on requests per provider (default 150; the deterministic phases need 81-84)",
           type=number(int, 10, 100_000, "10 to 100000"), default=150, metavar="N"),
    Option("rate-limit", "requests per second at most (a live run also stays under the provider's documented limit)",
           type=number(float, 0.1, 1000, "0.1 to 1000 per second"), metavar="N"),
    Option("timeout", "seconds a request may take in all, connect to last byte (default 10)",
           type=number(float, 0.1, 300, "more than 0 and at most 300 seconds"), default=10.0, metavar="S"),
    Option("max-wait", "seconds to wait out 429/503 in all, per provider (default 60)",
           type=number(float, 0, 3600, "0 to 3600 seconds"), default=60.0, metavar="S"),
    Option("max-body", "bytes of a response body read at most, after decompression (default 10485760)",
           type=number(int, 1024, 1024**3, "1024 bytes to 1 GiB"), default=10 * 1024 * 1024, metavar="BYTES"),
    Option("mock-fault", "run against the built-in mocks with this catalogue behaviour on (chat-contracts faults)",
           metavar="NAME"),
    Option("drift-report", "also write what was seen but is not documented: PATH (Markdown), PATH.json, "
           "PATH.openapi.yaml", metavar="PATH"),
    Option("drift-since", "a previous run's PATH.json: the drift report then says what changed since", metavar="PATH"),
    Option("har", "write every request and response (redacted, bodies clipped) as a HAR file", metavar="PATH"),
    Option("baseline", "known violations: reported as known, they do not fail the run", metavar="FILE"),
    Option("write-baseline", "write this run's violations as a baseline file", metavar="FILE"),
    Option("artifacts", "where reproductions keep bodies too long to paste (default: chat-contracts-artifacts)",
           metavar="DIR"),
)  # fmt: skip

LIVE_ONLY = ("token", "chat-id", "field", "api-version")
# Options that say where reports go, or carry a secret: a command that reruns one row leaves them out.
NOT_REPEATED = ("token", "drift-report", "drift-since", "har", "write-baseline", "artifacts")


def render(value: Any) -> str:
    """An option's value as typed on a command line (NAME=VALUE with VALUE in JSON unless it is a string)."""
    if isinstance(value, tuple):
        name, item = value
        return f"{name}={item if isinstance(item, str) else json.dumps(item)}"
    return str(value)


@dataclass(frozen=True)
class FrontEnd:
    """How the suite was started: its command, and how it spells the options."""

    command: tuple[str, ...]
    flag_prefix: str

    def args(self, values: dict[str, Any], leave_out: tuple[str, ...] = NOT_REPEATED) -> list[str]:
        """The options of `values` (name -> value, None left out) as this front end writes them."""
        out = []
        for option in OPTIONS:
            value = values.get(option.name)
            if option.name in leave_out or value in (None, [], option.default):
                continue
            for item in value if option.repeat else [value]:
                out.append(f"{self.flag_prefix}{option.name}={render(item)}")
        return out

    def respell(self, text: str) -> str:
        """`text` with the suite's option flags (--contract-NAME) as this front end writes them; anything else
        that holds "--contract-" (a path, a provider's data) is left as it is."""
        if self.flag_prefix == "--contract-" or "--contract-" not in text:
            return text
        return _FLAGS.sub(lambda match: self.flag_prefix + match[1], text)


# A suite option's flag, standing alone (not inside a longer word or path).
_NAMES = "|".join(re.escape(option.name) for option in OPTIONS)
_FLAGS = re.compile(rf"(?<![\w/.-])--contract-({_NAMES})(?![\w-])")
PYTEST = FrontEnd(("pytest", "--pyargs", "chat_contracts.suite"), "--contract-")
CLI = FrontEnd(("chat-contracts", "verify"), "--")


def option(name: str) -> Option:
    return next(o for o in OPTIONS if o.name == name)
