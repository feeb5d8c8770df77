"""The contract suite's settings, read from its options and `CONTRACT_*` variables and checked before any request.

`read_config` is shared by the pytest suite and `chat-contracts verify`: both hand it a way to look an
option up, and get a `SuiteConfig` or a `UsageError` whose message is one line. Nothing here is sent
anywhere; every path the run will write is checked here too, so a report that cannot be written stops
the run before it changes anything.
"""

from __future__ import annotations

import random
import shlex
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chat_contracts.core.errors import ChatContractsError, UsageError
from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import Provider, get_provider, provider_names
from chat_contracts.drift import history
from chat_contracts.provider import baseline
from chat_contracts.provider.profiles import PROFILES
from chat_contracts.provider.report import artifacts_dir
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import RunOptions, validate_cap
from chat_contracts.reference.faults import applies
from chat_contracts.reference.mock import DEFAULT_TOKEN
from chat_contracts.suite.options import LIVE_ONLY, OPTIONS, PYTEST, FrontEnd, option


@dataclass(frozen=True)
class SuiteConfig:
    targets: dict[str, Target]
    options: RunOptions
    fault: str | None = None
    drift_report: Path | None = None
    drift_since: Path | None = None
    har: Path | None = None
    known: frozenset[baseline.Key] = frozenset()
    write_baseline: Path | None = None
    artifacts: Path = Path("chat-contracts-artifacts")
    command: tuple[str, ...] = ()  # how to run the same suite again; never a secret
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def live(self) -> bool:
        return any(t.live for t in self.targets.values())

    def reproduce(self, selection: str) -> str:
        """The command that reruns one provider's check (the token comes from CONTRACT_TOKEN)."""
        line = " ".join(shlex.quote(p) for p in [*self.command, "-k", selection])
        return line + ("  # with CONTRACT_TOKEN exported" if self.live else "")


Lookup = Callable[[str], Any]  # option name (as in OPTIONS) -> the value given on the command line, or None


def read_config(given: Lookup, environ: Mapping[str, str], front: FrontEnd = PYTEST) -> SuiteConfig:
    """Settings from the options given, then the environment; UsageError (one line) for anything unusable."""
    try:
        return _read_config(given, environ, front)
    except UsageError as exc:  # the messages spell options as pytest does; say them as the user typed them
        token = given("token") or environ.get(option("token").env or "") or ""
        secret = [token] if len(token) >= MIN_TOKEN else []  # a shorter one is refused as no real token
        message = Redactor(secret)(front.respell(str(exc)))  # a token pasted in the wrong place stays unshown
        raise UsageError(message) from None


def _read_config(given: Lookup, environ: Mapping[str, str], front: FrontEnd) -> SuiteConfig:
    sources: dict[str, str] = {}

    def value(name: str) -> Any:
        found = given(name)
        if found not in (None, []):
            sources[name] = option(name).flag
            return found
        env = option(name).env
        if env and environ.get(env):
            sources[name] = env
            return environ[env]
        return None

    provider_name, base_url = value("provider"), value("base-url")
    if provider_name is not None and provider_name not in provider_names():
        raise UsageError(
            f"{sources['provider']}: unknown provider {provider_name!r} (known: {', '.join(provider_names())})"
        )
    seed = given("seed")
    options = RunOptions(
        seed=seed if seed is not None else random.randrange(2**32),
        profile=PROFILES[given("profile") or "dev"],
        max_requests=given("max-requests") or 150,
        max_wait=given("max-wait") if given("max-wait") is not None else 60.0,
        rate_limit=given("rate-limit"),
        timeout=given("timeout") or 10.0,
        max_body=given("max-body") or 10 * 1024 * 1024,
        known_values=dict(given("field") or []),
    )
    paths = _paths(given)
    # The rerun command: every option given but outputs and the token (which comes from the environment).
    values = {o.name: given(o.name) for o in OPTIONS} | {"seed": options.seed}
    values |= {name: value(name) for name in ("provider", "base-url", "chat-id") if value(name) is not None}
    reproduce = [*front.command, *front.args(values)]
    if base_url is None:
        return _mock_config(value, sources, provider_name, options, paths, reproduce)
    return _live_config(value, sources, provider_name, base_url, options, paths, reproduce)


def per_provider(path: Path, name: str, many: bool) -> Path:
    """One file per provider when a run covers several: drift.md -> drift-whop.md."""
    return path.with_name(f"{path.stem}-{name}{path.suffix}") if many else path


def _check_drift_since(config: SuiteConfig) -> SuiteConfig:
    """Each previous drift report is read now, so a bad one stops the run before it sends anything (a
    missing one is a first run: the report says so, and the next run compares with it)."""
    if config.drift_since is None:
        return config
    for name in config.targets:
        path = per_provider(config.drift_since, name, len(config.targets) > 1)
        if not path.exists():
            continue
        try:
            previous = history.load_previous(path)
        except ChatContractsError as exc:
            raise UsageError(f"--contract-drift-since: {exc}") from None
        if previous.get("provider") not in (None, name):
            raise UsageError(
                f"--contract-drift-since {path}: a drift report for {previous['provider']!r}, not {name!r}"
            )
    return config


def _mock_config(
    value: Lookup,
    sources: dict[str, str],
    provider_name: str | None,
    options: RunOptions,
    paths: dict[str, Any],
    reproduce: list[str],
) -> SuiteConfig:
    for name in LIVE_ONLY:
        # Given on the command line, a live-only option is a mistake; exported (CONTRACT_TOKEN for a later
        # live run), it is only the environment: the mock run goes ahead without it.
        if value(name) and sources[name] == option(name).flag:
            raise UsageError(
                f"{sources[name]} applies to a live run, and no --contract-base-url (or CONTRACT_BASE_URL) is given: "
                "without one the suite runs the built-in mocks"
            )
    fault = value("mock-fault")
    names = [provider_name] if provider_name else list(provider_names())
    if fault:
        names = [n for n in names if applies(fault, get_provider(n))]  # the providers that have it
        if not names:
            raise UsageError(f"unknown fault {fault!r} (list them: chat-contracts faults)")
    for name in names:
        _check_cap(name, options.max_requests)
    targets = {
        n: Target(get_provider(n), get_provider(n).server, DEFAULT_TOKEN, get_provider(n).example_id) for n in names
    }
    return _check_drift_since(SuiteConfig(targets, options, fault=fault, command=tuple(reproduce), **paths))


def _live_config(
    value: Lookup,
    sources: dict[str, str],
    provider_name: str | None,
    base_url: str,
    options: RunOptions,
    paths: dict[str, Any],
    reproduce: list[str],
) -> SuiteConfig:
    where = sources["base-url"]
    if not provider_name:
        raise UsageError(
            f"{where} needs --contract-provider (or CONTRACT_PROVIDER): one of {', '.join(provider_names())}"
        )
    provider = get_provider(provider_name)
    url = _base_url(base_url, where)
    token, chat_id = value("token"), value("chat-id")
    if not token:
        raise UsageError(
            f"{where} needs a token: CONTRACT_TOKEN (or --contract-token); without one every check is vacuous"
        )
    _check_token(token, sources["token"])
    if not chat_id:
        raise UsageError(f"{where} needs --contract-chat-id (or CONTRACT_CHAT_ID): an existing chat the run may update")
    _check_chat_id(chat_id, sources["chat-id"])
    if value("mock-fault"):
        raise UsageError("--contract-mock-fault applies to the built-in mocks, not to --contract-base-url")
    _check_fields(provider, options.known_values)
    api_version = value("api-version")
    if api_version is not None and provider.version_header is None:
        raise UsageError(f"--contract-api-version: {provider.name} has no API version header")
    if api_version is not None:
        _check_header_value(api_version, "--contract-api-version", "the version")
    _check_cap(provider.name, options.max_requests, options.known_values)
    target = Target(provider, url, token, chat_id, live=True, api_version=api_version)
    suite = SuiteConfig({provider.name: target}, options, command=tuple(reproduce), secrets=(token,), **paths)
    return _check_drift_since(suite)


def _base_url(text: str, where: str) -> str:
    # The URL is never repeated: whatever stands before an @, in a query, or where a port should be
    # (`http://host:password/`) may be a secret, and a URL with no `//` hides where those are.
    if any(c.isspace() or not c.isprintable() for c in text):
        raise UsageError(f"{where} holds spaces or control characters (not shown)")
    if "@" in text:
        raise UsageError(f"{where} carries credentials (user:password@): give the token with CONTRACT_TOKEN instead")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (parsed on access: a port that is no number raises here, not in the first request)
    except ValueError:
        raise UsageError(f"{where} is not a valid URL (its port is not a number from 0 to 65535, or its IPv6 "
                         "address is malformed)") from None  # fmt: skip
    if parts.query or parts.fragment:
        raise UsageError(f"{where} has a query or a fragment (not shown); give the base URL, API prefix included")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{where} (not shown) is not an http(s) URL with a host, like https://api.example.com/v1")
    return text.rstrip("/")


MIN_TOKEN = 8


def _check_token(token: str, where: str) -> None:
    _check_header_value(token, where, "the token")  # the token itself is never repeated in a message
    if len(token) < MIN_TOKEN:
        # Every output is scrubbed of the token; a token this short would scrub ordinary words with it.
        raise UsageError(
            f"{where}: the token is {len(token)} characters, too short to be a real one (at least {MIN_TOKEN})"
        )


def _check_header_value(value: str, where: str, what: str) -> None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UsageError(f"{where}: {what} holds control characters (a stray newline?); no HTTP header can carry them")
    if not value.isascii():
        raise UsageError(f"{where}: {what} holds non-ASCII characters, which an HTTP header cannot carry")
    if value != value.strip():
        raise UsageError(f"{where}: {what} starts or ends with whitespace")


def _check_chat_id(chat_id: str, where: str) -> None:
    if (
        chat_id in (".", "..")
        or any(c in chat_id for c in "/\\%?#")
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in chat_id)
    ):
        raise UsageError(
            f"{where} {chat_id!r} would change the request's path: an id may not be '.', '..' or hold /, \\, %, ?, # "
            "or control characters"
        )
    if not chat_id.strip():
        raise UsageError(f"{where} is blank")


def _check_fields(provider: Provider, known: Mapping[str, Any]) -> None:
    for name in known:
        if name not in provider.field_names:
            raise UsageError(f"--contract-field {name}: {provider.name} has no request field {name!r} "
                             f"(fields: {', '.join(sorted(provider.field_names))})")  # fmt: skip
        if name not in provider.unobservable_fields:
            raise UsageError(f"--contract-field {name}: the response shows {name}, so the run reads its value itself")
        if provider.document.errors({name: known[name]}, provider.request_schema_pointer):
            raise UsageError(f"--contract-field {name}: {known[name]!r} is not a value a request may send")


def _check_cap(provider: str, max_requests: int, known_values: Mapping[str, Any] | None = None) -> None:
    problem = validate_cap(get_provider(provider), max_requests, dict(known_values or {}))
    if problem:
        raise UsageError(problem)


def writable(path: Path, what: str) -> Path:
    """`path`, once its directory is known to take a new file; UsageError otherwise (before any request)."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".chat-contracts-", delete=True):
            pass
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot be written ({exc.strerror or exc.__class__.__name__})") from None
    if path.is_dir():
        raise UsageError(f"{what} {path}: is a directory")
    return path


def _can_make(directory: Path, what: str) -> Path:
    """`directory`, once it is known it exists as a writable directory or could be made (nothing is left made
    now: a directory is tried in its nearest existing ancestor and removed)."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == directory and not directory.is_dir():
        raise UsageError(f"{what} {directory}: cannot be written (not a directory)")
    try:  # os.access says yes to root anywhere, /proc included: only making something tells
        tempfile.TemporaryDirectory(dir=existing, prefix=".chat-contracts-").cleanup()
    except OSError as exc:
        raise UsageError(f"{what} {directory}: cannot be written ({exc.strerror or exc.__class__.__name__})") from None
    return directory


def _paths(given: Lookup) -> dict[str, Any]:
    found: dict[str, Any] = {"artifacts": _can_make(artifacts_dir(given("artifacts")), "--contract-artifacts")}
    for name, key in (("drift-report", "drift_report"), ("har", "har"), ("write-baseline", "write_baseline")):
        if given(name):
            found[key] = writable(Path(given(name)), option(name).flag)
    if given("drift-since"):
        found["drift_since"] = Path(given("drift-since"))
        if found["drift_since"].is_dir():
            raise UsageError(f"--contract-drift-since {found['drift_since']}: is a directory, not a previous PATH.json")
    if given("baseline"):
        try:
            found["known"] = frozenset(baseline.load(Path(given("baseline"))))
        except ChatContractsError as exc:
            raise UsageError(f"--contract-baseline: {exc}") from None
    return found
