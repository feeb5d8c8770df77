"""Our contract suite vs stock `st run`, on the same served mocks, in one run.

    python bench/suite_vs_schemathesis.py [--max-examples 100] [--only NAME ...] [--seed N]

For the reference of each provider, every conforming variant and every catalogue fault, both tools
run against the same mock served on 127.0.0.1: our suite through its engine (as `chat-contracts verify
--base-url ...` does, live mode), stock Schemathesis as `st run SPEC --url URL -H 'Authorization: Bearer ...'
-n 100`. Reported per tool: faults caught, false alarms on conforming implementations, wall time and
requests (counted by the mock). Every run is bounded: ours by its request cap, st by -n and a
300 s timeout (st's own --max-time is a budget it fills, not a cap).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass

from chat_contracts.core.documents import contracts_dir
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import RunOptions, verify
from chat_contracts.reference.faults import build, catalogue
from chat_contracts.reference.mock import DEFAULT_TOKEN
from chat_contracts.reference.transport import serving


@dataclass
class Outcome:
    flagged: bool
    seconds: float
    requests: int


def ours(provider_name: str, behaviour: str | None, seed: int) -> Outcome:
    provider = get_provider(provider_name)
    api = build(provider, behaviour)
    with serving(api) as base_url:
        start = time.perf_counter()
        result = verify(Target(provider, base_url, DEFAULT_TOKEN, api.chat_id, live=True), RunOptions(seed=seed))
        flagged = bool(result.violations) or result.setup_error is not None or result.aborted is not None
        return Outcome(flagged, time.perf_counter() - start, api.requests)


def stock(provider_name: str, behaviour: str | None, seed: int, max_examples: int) -> Outcome:
    provider = get_provider(provider_name)
    api = build(provider, behaviour)
    with serving(api) as base_url:
        start = time.perf_counter()
        result = subprocess.run(
            ["st", "run", str(contracts_dir() / provider.spec_file), "--url", base_url,
             "-H", f"Authorization: Bearer {DEFAULT_TOKEN}", "-n", str(max_examples), "--seed", str(seed),
             "--no-color"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        return Outcome(result.returncode != 0, time.perf_counter() - start, api.requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100, help="st run -n (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="behaviours to run (default: reference + whole catalogue)")
    args = parser.parse_args()
    rows = [(p, None) for p in ("whop", "wilson")]
    rows += [(p, b.name) for b in catalogue().values() for p in b.providers]
    if args.only:
        rows = [r for r in rows if (r[1] or "reference") in args.only]
    totals = {"ours": [0, 0, 0.0, 0], "st": [0, 0, 0.0, 0]}  # caught, false alarms, seconds, requests
    faults = 0
    print(f"{'provider':8} {'behaviour':38} {'kind':9} {'ours':>18} {'st run':>18}", flush=True)
    for provider, behaviour in rows:
        conforming = behaviour is None or catalogue()[behaviour].conforms
        faults += not conforming
        cells = []
        for tool, outcome in (("ours", ours(provider, behaviour, args.seed)),
                              ("st", stock(provider, behaviour, args.seed, args.max_examples))):  # fmt: skip
            total = totals[tool]
            total[0] += outcome.flagged and not conforming
            total[1] += outcome.flagged and conforming
            total[2] += outcome.seconds
            total[3] += outcome.requests
            verdict = (
                ("FALSE ALARM" if outcome.flagged else "pass")
                if conforming
                else ("caught" if outcome.flagged else "MISSED")
            )
            cells.append(f"{verdict:>11} {outcome.seconds:4.1f}s {outcome.requests:3d}r")
        kind = "conforms" if conforming else "fault"
        print(f"{provider:8} {behaviour or '(reference)':38} {kind:9} {cells[0]:>18} {cells[1]:>18}", flush=True)
    runs = len(rows)
    for tool, (caught, false_alarms, seconds, requests) in totals.items():
        print(
            f"{tool:5}: faults caught {caught}/{faults}, false alarms {false_alarms}/{runs - faults}, "
            f"mean {seconds / runs:.1f} s and {requests / runs:.0f} requests per run"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
