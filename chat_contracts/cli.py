"""The `chat-contracts` command: one sub-command per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from chat_contracts import lint
from chat_contracts.documents import Document, DocumentError, contracts_dir
from chat_contracts.registry import UnknownProviderError, get_provider, provider_names

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


def _lint(args: argparse.Namespace) -> int:
    specs = [Path(s) for s in args.specs] or lint.default_specs()
    baseline_path = None if args.no_baseline else Path(args.baseline or contracts_dir() / lint.BASELINE_FILE)
    try:
        baseline = lint.load_baseline(baseline_path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _fail(f"baseline {baseline_path}: cannot be read ({exc.__class__.__name__})")
    status, new, known = EXIT_OK, 0, 0
    for spec in specs:
        try:
            document = Document.load(spec)
        except DocumentError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        for finding in lint.apply_baseline(lint.lint_document(document), baseline):
            print(finding.line())
            known, new = known + bool(finding.known), new + (not finding.known)
    print(f"{len(specs)} document(s): {new} new finding(s), {known} known")
    if status == EXIT_OK and new:
        status = EXIT_FINDINGS
    return status


def _serve(args: argparse.Namespace) -> int:
    # Imported here: uvicorn and Starlette are not needed by the other commands.
    from urllib.parse import urlsplit

    from chat_contracts import faults, mock, transport

    try:
        provider = get_provider(args.provider)
        api = faults.build(
            provider,
            args.fault,
            token=args.token,
            chat_id=args.chat_id,
            rate_limit_per_minute=args.rate_limit,
        )
        sock = transport.bind(args.host, args.port)
    except (UnknownProviderError, faults.UnknownBehaviourError, transport.PortInUseError) as exc:
        return _fail(str(exc))
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
    from chat_contracts.faults import CATALOGUE

    for behaviour in CATALOGUE.values():
        if args.provider and args.provider not in behaviour.providers:
            continue
        kind = "variant" if behaviour.conforms else "fault"
        print(f"{behaviour.name:40} {kind:8} {','.join(behaviour.providers):12} {behaviour.summary}")
    return EXIT_OK


def _drift(args: argparse.Namespace) -> int:
    from chat_contracts import drift

    if args.rules:
        print(drift.rule_catalogue_markdown())
        return EXIT_OK
    if not (args.baseline and args.candidate):
        return _fail("drift needs BASELINE and CANDIDATE (or --rules)")
    try:
        findings = drift.compare(Document.load(args.baseline), Document.load(args.candidate))
    except (DocumentError, ValueError) as exc:
        return _fail(str(exc))
    print(drift.render(findings, args.format))
    return EXIT_FINDINGS if drift.at_or_above(findings, args.fail_on) else EXIT_OK


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-contracts",
        description="Contract tests for the Whop and Wilson 'update a chat' APIs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint_cmd = commands.add_parser(
        "lint",
        help="check that contracts are valid OpenAPI 3.1 with resolvable $refs and valid examples",
        description="Exit 0: no new findings; 1: new findings; 2: unreadable input. "
        "Findings listed in the baseline are reported as known and do not fail.",
    )
    lint_cmd.add_argument("specs", nargs="*", metavar="SPEC", help="OpenAPI files (default: all our contracts)")
    lint_cmd.add_argument("--baseline", metavar="FILE", help=f"known defects (default: contracts/{lint.BASELINE_FILE})")
    lint_cmd.add_argument("--no-baseline", action="store_true", help="treat every finding as new")
    lint_cmd.set_defaults(run=_lint)

    from chat_contracts.mock import DEFAULT_TOKEN  # light: no server imports

    serve_cmd = commands.add_parser(
        "serve",
        help="serve a reference mock of a provider over HTTP on 127.0.0.1",
        description="Serve the reference implementation of one provider (or one with a catalogue fault or "
        "variant switched on, see --fault) until Ctrl-C.",
    )
    serve_cmd.add_argument("--provider", required=True, choices=provider_names())
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    serve_cmd.add_argument("--token", default=DEFAULT_TOKEN, help=f"bearer token to accept (default: {DEFAULT_TOKEN})")
    serve_cmd.add_argument("--chat-id", help="id of the seeded chat (default: the registry's example id)")
    serve_cmd.add_argument("--fault", metavar="NAME", help="switch on a catalogue fault or variant (see faults)")
    serve_cmd.add_argument(
        "--rate-limit", type=int, metavar="N", help="answer 429 past N requests per minute (default: no limit)"
    )
    serve_cmd.set_defaults(run=_serve)

    drift_cmd = commands.add_parser(
        "drift",
        help="compare two OpenAPI documents and classify each change (breaking, warning, info)",
        description="Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: unreadable input.",
    )
    drift_cmd.add_argument("baseline", nargs="?", metavar="BASELINE", help="the document clients were built on")
    drift_cmd.add_argument("candidate", nargs="?", metavar="CANDIDATE", help="the newer document, or an observed one")
    drift_cmd.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    drift_cmd.add_argument("--fail-on", choices=("breaking", "warning", "info", "never"), default="breaking")
    drift_cmd.add_argument("--rules", action="store_true", help="print the rule catalogue and exit")
    drift_cmd.set_defaults(run=_drift)

    faults_cmd = commands.add_parser("faults", help="list the catalogue of faults and conforming variants")
    faults_cmd.add_argument("--provider", choices=provider_names())
    faults_cmd.set_defaults(run=_list_faults)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
