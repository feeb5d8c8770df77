"""The `chat-contracts` command: one sub-command per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from chat_contracts import lint
from chat_contracts.documents import Document, DocumentError, contracts_dir

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
