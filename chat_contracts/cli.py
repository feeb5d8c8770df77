"""The `chat-contracts` command: one sub-command per job, and the tools around them.

Exit statuses: 0 all good; 1 findings (violations, new lint findings, drift at or above --fail-on, a chat
not put back); 2 bad input (an option, a file, a document), with one line on stderr; 3 an internal error
(a bug: please report it); 4 a provider that could not be verified at all (unreachable, token refused,
chat unknown); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from chat_contracts import __version__
from chat_contracts.core.documents import Document, contracts_dir
from chat_contracts.core.errors import ChatContractsError, UsageError
from chat_contracts.core.registry import get_provider, provider_names

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_CANNOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def _contract(source: str) -> str:
    """A spec argument: a provider's name stands for its contract as shipped in the package (no clone needed),
    unless a file of that name is there."""
    if source in provider_names() and not Path(source).is_file():
        return str(contracts_dir() / get_provider(source).spec_file)
    return source


def _lint(args: argparse.Namespace) -> int:
    from chat_contracts.core import lint  # its OpenAPI validator takes a second to import

    specs = [Path(_contract(s)) for s in args.specs] or lint.default_specs()
    baseline_path = None if args.no_baseline else Path(args.baseline or contracts_dir() / lint.BASELINE_FILE)
    baseline = lint.load_baseline(baseline_path)
    status, new, known, warnings, unreadable = EXIT_OK, 0, 0, 0, 0
    for spec in specs:
        try:
            document = Document.load(spec)
        except ChatContractsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status, unreadable = EXIT_BAD_INPUT, unreadable + 1
            continue
        for finding in lint.apply_baseline(lint.lint_document(document), baseline):
            print(finding.line())
            if finding.warning and not finding.known:
                warnings += 1
            else:
                known, new = known + bool(finding.known), new + (not finding.known)
    print(
        f"{len(specs) - unreadable} document(s): {new} new finding(s), {known} known"
        + (f", {warnings} warning(s)" if warnings else "")
        + (f"; {unreadable} could not be read" if unreadable else "")
    )
    if status == EXIT_OK and new:
        status = EXIT_FINDINGS
    return status


def _serve(args: argparse.Namespace) -> int:
    # Imported here: uvicorn and Starlette are not needed by the other commands.
    from urllib.parse import urlsplit

    from chat_contracts.reference import faults, mock, transport

    provider = get_provider(args.provider)
    api = faults.build(
        provider, args.fault, token=args.token, chat_id=args.chat_id, rate_limit_per_minute=args.rate_limit
    )
    sock = transport.bind(args.host, args.port)
    prefix = urlsplit(provider.server).path
    base_url = transport.base_url_of(sock, prefix)
    behaviour = f", behaviour {args.fault}" if args.fault else ""
    token = args.token if args.token == mock.DEFAULT_TOKEN else "(the one given)"
    print(f"{provider.title} mock{behaviour}", flush=True)
    print(f"base URL: {base_url}", flush=True)
    print(f"chat id:  {api.chat_id}", flush=True)
    print(f"token:    {token}", flush=True)
    print("Ctrl-C stops it.", flush=True)
    try:
        transport.server_for(api, prefix).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shuts down on Ctrl-C, then re-raises it: that is the normal way out
    finally:
        sock.close()
    print("stopped", flush=True)
    return EXIT_OK


def _list_faults(args: argparse.Namespace) -> int:
    from chat_contracts.reference.faults import catalogue

    for behaviour in catalogue().values():
        if args.provider and args.provider not in behaviour.providers:
            continue
        kind = "variant" if behaviour.conforms else "fault"
        caught = f"[{behaviour.caught_by}] " if behaviour.caught_by else ""
        print(f"{behaviour.name:42} {kind:8} {','.join(behaviour.providers):12} {caught}{behaviour.summary}")
    return EXIT_OK


def _list_checks(args: argparse.Namespace) -> int:
    from chat_contracts.provider.checks import CHECKS
    from chat_contracts.suite.options import CLI

    for check in CHECKS.values():
        print(CLI.respell(f"{check.name:26} {check.summary}"))
    return EXIT_OK


def _drift(args: argparse.Namespace) -> int:
    from chat_contracts.core.documents import MAX_BYTES
    from chat_contracts.drift import differ, docs

    if args.rules:
        print(differ.rule_catalogue_markdown())
        return EXIT_OK
    if not (args.baseline and args.candidate):
        raise UsageError("drift needs BASELINE and CANDIDATE (or --rules)")
    max_bytes = MAX_BYTES if args.max_bytes is None else args.max_bytes
    bounds = {"timeout": args.timeout, "max_bytes": max_bytes}
    baseline = docs.load_document(_contract(args.baseline), **bounds)
    candidate = docs.load(args.candidate, **bounds)
    if isinstance(candidate, docs.Page):
        findings = docs.compare_page(baseline, candidate)
    else:
        findings = differ.compare(baseline, candidate, all_operations=args.all_operations)
    print(differ.render(findings, args.format))
    return EXIT_FINDINGS if differ.at_or_above(findings, args.fail_on) else EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    """The contract suite, run by pytest from the installed package, with the same checks and reports."""
    import pytest

    from chat_contracts.suite.config import read_config
    from chat_contracts.suite.options import CLI, OPTIONS, PYTEST
    from chat_contracts.suite.plugin import FRONT_END, PLUGIN_NAME

    given = {option.name: getattr(args, option.dest) for option in OPTIONS}
    read_config(lambda name: given[name], os.environ, CLI)  # bad input: one line and exit 2, before pytest
    # This process read the options (importing hypothesis, respx, schemathesis) before pytest could rewrite
    # their asserts, which pytest warns about; no test of theirs runs here, so the warning says nothing.
    pytest_args = ["--pyargs", "chat_contracts.suite", "-p", "no:cacheprovider", "-c", str(_SUITE_INI),
                   "--rootdir", os.getcwd(), "-rfEsx", "-W", "ignore::pytest.PytestAssertRewriteWarning"]  # fmt: skip
    # Every option as the suite spells it, but the token: it travels in the environment, never in a process list.
    pytest_args += PYTEST.args(given, leave_out=("token",))
    if given["token"]:
        os.environ["CONTRACT_TOKEN"] = given["token"]
    if args.junitxml:
        pytest_args.append(f"--junitxml={args.junitxml}")
    if args.k:
        pytest_args += ["-k", args.k]
    pytest_args += ["-q"] * args.quiet + ["-v"] * args.verbose + list(args.pytest_args)

    could_not_run: list[dict[str, Any]] = []
    internal_errors: list[dict[str, Any]] = []

    class _Command:
        @staticmethod
        def pytest_load_initial_conftests(early_config: Any) -> None:
            early_config.stash[FRONT_END] = CLI

        @staticmethod
        def pytest_unconfigure(config: Any) -> None:
            suite = config.pluginmanager.get_plugin(PLUGIN_NAME)
            summaries = getattr(suite, "summaries", {}).values()
            could_not_run.extend(s for s in summaries if s["setup_error"])
            internal_errors.extend(s for s in summaries if s["internal_error"])

    # This process checked the options (and so imported hypothesis) before pytest loads hypothesis' plugin,
    # which warns about such an order; here it is expected and harmless.
    warnings.filterwarnings("ignore", message="Slow code in plugin")
    code = int(pytest.main(pytest_args, plugins=[_Command()]))
    if internal_errors and code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return EXIT_INTERNAL  # a bug of ours stopped a run: its verdict is not to be trusted
    if code == pytest.ExitCode.USAGE_ERROR:  # pytest's status both for a provider it could not run and bad options
        return EXIT_CANNOT_RUN if could_not_run else EXIT_BAD_INPUT
    statuses = {0: EXIT_OK, 1: EXIT_FINDINGS, 2: EXIT_INTERRUPTED, 3: EXIT_INTERNAL, 5: EXIT_BAD_INPUT}
    return statuses.get(code, EXIT_INTERNAL)  # 5: no row selected (a -k that matches nothing)


_SUITE_INI = Path(__file__).resolve().parent / "suite" / "chat-contracts-pytest.ini"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: 0 to 65535 (0 picks a free one)")
    return port


def _per_minute(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range: at least 1 request per minute")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (`--help` shows the usage), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chat-contracts",
        description="Contract tests for the Whop and Wilson 'update a chat' APIs: verify a provider, "
        "verify a consumer, audit drift.",
    )
    parser.add_argument("--version", action="version", version=f"chat-contracts {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from chat_contracts.suite.options import OPTIONS, number

    verify_cmd = commands.add_parser(
        "verify",
        help="verify a provider against its contract (the contract suite, run by pytest)",
        description="Without --base-url: every provider's built-in mock. Exit 0: every check held (and a live "
        "chat was put back); 1: violations; 2: bad input; 3: an internal error (a bug of ours; the chat is put "
        "back first); 4: the provider could not be verified at all; 130: interrupted (Ctrl-C, SIGTERM).",
    )
    for option in OPTIONS:
        option.add_to(verify_cmd.add_argument, prefix="--")
    verify_cmd.add_argument("--junitxml", metavar="PATH", help="write JUnit XML: one row per provider and check")
    verify_cmd.add_argument("-k", metavar="EXPR", help="only the rows matching EXPR, e.g. 'whop and field_applied'")
    verify_cmd.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    verify_cmd.add_argument("-v", "--verbose", action="count", default=0, help="more output: one line per row")
    verify_cmd.add_argument(
        "pytest_args", nargs="*", metavar="-- PYTEST_OPTION", help="after --, options for pytest itself (e.g. -- -n 2)"
    )
    verify_cmd.set_defaults(run=_verify)

    lint_cmd = commands.add_parser(
        "lint",
        help="check that contracts are valid OpenAPI 3.1 with resolvable $refs and valid examples",
        description="Exit 0: no new findings; 1: new findings; 2: unreadable input. "
        "Findings listed in the baseline are reported as known and do not fail. No file or URL a spec names is opened.",
    )
    lint_cmd.add_argument(
        "specs",
        nargs="*",
        metavar="SPEC",
        help="OpenAPI files, or whop / wilson for a shipped contract (default: both)",
    )
    lint_cmd.add_argument("--baseline", metavar="FILE", help="known defects (default: the shipped known-defects.yaml)")
    lint_cmd.add_argument("--no-baseline", action="store_true", help="treat every finding as new")
    lint_cmd.set_defaults(run=_lint)

    from chat_contracts.reference.mock import DEFAULT_PORT, DEFAULT_TOKEN  # light: no server imports

    serve_cmd = commands.add_parser(
        "serve",
        help="serve a reference mock of a provider over HTTP on 127.0.0.1",
        description="Serve the reference implementation of one provider (or one with a catalogue fault or "
        "variant switched on, see --fault) until Ctrl-C.",
    )
    serve_cmd.add_argument("--provider", required=True, choices=provider_names())
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve_cmd.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)"
    )
    serve_cmd.add_argument("--token", default=DEFAULT_TOKEN, help=f"bearer token to accept (default: {DEFAULT_TOKEN})")
    serve_cmd.add_argument("--chat-id", help="id of the seeded chat (default: the registry's example id)")
    serve_cmd.add_argument("--fault", metavar="NAME", help="switch on a catalogue fault or variant (see faults)")
    serve_cmd.add_argument(
        "--rate-limit", type=_per_minute, metavar="N", help="answer 429 past N requests per minute (default: no limit)"
    )
    serve_cmd.set_defaults(run=_serve)

    drift_cmd = commands.add_parser(
        "drift",
        help="compare a contract with a newer document or the published docs; classify each change",
        description="Compares the operations BASELINE pins with CANDIDATE: an OpenAPI document (a file or an "
        "http(s) URL, e.g. the provider's whole published API) or a published Markdown page of the endpoint. "
        "Nothing a document names is fetched. Exit 0: nothing at or above --fail-on; 1: findings at or above "
        "it; 2: unreadable input.",
    )
    drift_cmd.add_argument(
        "baseline",
        nargs="?",
        metavar="BASELINE",
        help="the contract clients were built on: a file, or whop / wilson for the contract shipped with this tool",
    )
    drift_cmd.add_argument(
        "candidate", nargs="?", metavar="CANDIDATE", help="the newer document or docs page: a file or an http(s) URL"
    )
    drift_cmd.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    drift_cmd.add_argument("--fail-on", choices=("breaking", "warning", "info", "never"), default="breaking")
    drift_cmd.add_argument("--rules", action="store_true", help="print the rule catalogue and exit")
    drift_cmd.add_argument(
        "--all-operations", action="store_true", help="also report operations the baseline does not pin, as added"
    )
    drift_cmd.add_argument(
        "--timeout",
        type=number(float, 0.1, 600, "more than 0 and at most 600 seconds"),
        default=30.0,
        metavar="SECONDS",
        help="for fetching a URL, in all (default: 30)",
    )
    drift_cmd.add_argument(
        "--max-bytes",
        type=number(int, 1024, 1024**3, "1024 bytes to 1 GiB"),
        metavar="N",
        help="largest document or page read, in bytes (default: 10 MiB)",
    )
    drift_cmd.set_defaults(run=_drift)

    faults_cmd = commands.add_parser("faults", help="list the catalogue of faults and conforming variants")
    faults_cmd.add_argument("--provider", choices=provider_names())
    faults_cmd.set_defaults(run=_list_faults)

    checks_cmd = commands.add_parser("checks", help="list the checks a provider is judged by")
    checks_cmd.set_defaults(run=_list_checks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ChatContractsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
