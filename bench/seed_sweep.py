"""Same verdict on every seed, measured: conforming implementations over many random seeds (no false
alarm may appear) and every catalogue fault over many random seeds (each must be caught by its check).

    python bench/seed_sweep.py [--conforming-seeds 200] [--fault-seeds 20] [--jobs 2] [--only NAME ...] [--seed N]

Seeds are drawn at random (and printed with any failure), so every sweep looks at new ones; `--seed N` runs
each implementation once at seed N (to replay a failure). Progress goes to stderr every 100 runs. Each run
is the whole engine (every phase, dev profile, 150 requests) against an in-process mock, bounded by the
request cap. Exit 1 on any false alarm or miss, with the seed and the command that replays it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from chat_contracts.core.http import BoundedClient
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import RunOptions, verify
from chat_contracts.reference.faults import build, catalogue
from chat_contracts.reference.mock import DEFAULT_TOKEN
from chat_contracts.reference.transport import mock_transport


@dataclass(frozen=True)
class Outcome:
    provider: str
    behaviour: str | None
    seed: int
    ok: bool
    detail: str
    seconds: float


def one(job: tuple[str, str | None, int]) -> Outcome:
    provider_name, behaviour, seed = job
    provider = get_provider(provider_name)
    api = build(provider, behaviour)
    client = BoundedClient(max_body=1024 * 1024, transport_factory=lambda: mock_transport(api, provider.server))
    start = time.perf_counter()
    result = verify(Target(provider, provider.server, DEFAULT_TOKEN, api.chat_id), RunOptions(seed=seed), client=client)
    seconds = time.perf_counter() - start
    if behaviour is None or catalogue()[behaviour].conforms:
        problems = [f"{v.check}: {v.message} [{v.case.label}]" for v in result.violations]
        problems += [result.aborted] if result.aborted else []
        return Outcome(provider_name, behaviour, seed, not problems, "; ".join(problems)[:300], seconds)
    expected = catalogue()[behaviour].caught_by
    found = sorted({v.check for v in result.violations})
    return Outcome(provider_name, behaviour, seed, expected in found, f"expected {expected}, found {found}", seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conforming-seeds", type=int, default=200)
    parser.add_argument("--fault-seeds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="behaviours to run ('reference' for the reference mocks)")
    parser.add_argument("--seed", type=int, help="run each implementation once, at this seed")
    args = parser.parse_args()
    rng = random.SystemRandom()
    conforming = [(p, None) for p in ("whop", "wilson")]
    conforming += [(p, b.name) for b in catalogue().values() if b.conforms for p in b.providers]
    faulty = [(p, b.name) for b in catalogue().values() if not b.conforms for p in b.providers]
    if args.only:
        conforming = [c for c in conforming if (c[1] or "reference") in args.only]
        faulty = [f for f in faulty if f[1] in args.only]
    if args.seed is not None:
        args.conforming_seeds = args.fault_seeds = 1

    def seed() -> int:
        return rng.randrange(2**32) if args.seed is None else int(args.seed)

    jobs = [(p, b, seed()) for p, b in conforming for _ in range(args.conforming_seeds)]
    jobs += [(p, b, seed()) for p, b in faulty for _ in range(args.fault_seeds)]
    print(f"{len(jobs)} runs: {len(conforming)} conforming implementations x {args.conforming_seeds} seeds, "
          f"{len(faulty)} faults x {args.fault_seeds} seeds, {args.jobs} processes", flush=True)  # fmt: skip
    start = time.perf_counter()
    failures: list[Outcome] = []
    per_behaviour: dict[tuple[str, str | None], list[bool]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for done, outcome in enumerate(pool.map(one, jobs, chunksize=4), 1):
            if done % 100 == 0:
                print(f"{done}/{len(jobs)} runs, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            per_behaviour.setdefault((outcome.provider, outcome.behaviour), []).append(outcome.ok)
            if not outcome.ok:
                failures.append(outcome)
                print(f"FAIL {outcome.provider} {outcome.behaviour or '(reference)'} seed {outcome.seed}: "
                      f"{outcome.detail}", flush=True)  # fmt: skip
    false_alarms = sum(not ok for (p, b), oks in per_behaviour.items() for ok in oks if (p, b) in conforming)
    misses = sum(not ok for (p, b), oks in per_behaviour.items() for ok in oks if (p, b) in faulty)
    conforming_runs = len(conforming) * args.conforming_seeds
    fault_runs = len(faulty) * args.fault_seeds
    print(f"conforming: {conforming_runs - false_alarms}/{conforming_runs} runs passed ({false_alarms} false alarms)")
    caught_always = sum(all(per_behaviour[f]) for f in faulty)
    print(f"faults: {fault_runs - misses}/{fault_runs} runs caught by the named check; "
          f"{caught_always}/{len(faulty)} faults caught on every seed")  # fmt: skip
    print(f"{time.perf_counter() - start:.0f} s")
    for outcome in failures[:20]:
        print(f"replay: python bench/seed_sweep.py --only {outcome.behaviour or 'reference'} --seed {outcome.seed}"
              f"; or pytest --pyargs chat_contracts.suite --contract-seed {outcome.seed} "
              f"--contract-provider {outcome.provider}"
              + (f" --contract-mock-fault {outcome.behaviour}" if outcome.behaviour else ""))  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
