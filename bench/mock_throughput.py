"""Requests per second of the reference mocks, in-process (respx) and on loopback (uvicorn).

    python bench/mock_throughput.py [--requests N]

Goal: >= 500 requests/s in-process on a 2-core machine. Exit 1 when it is missed. Every loop is
bounded in count and in time (30 s per measurement).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

import httpx
import respx

from chat_contracts.core.registry import all_providers
from chat_contracts.reference.faults import build
from chat_contracts.reference.mock import DEFAULT_TOKEN
from chat_contracts.reference.transport import mount, serving

GOAL_IN_PROCESS = 500.0
TIME_LIMIT = 30.0


def measure(client: httpx.Client, url: str, headers: dict[str, str], count: int) -> tuple[float, int]:
    bodies = itertools.cycle([{"title": "Weekly sync"}, {}, {"title": "Réunion ✓"}])
    start = time.perf_counter()
    sent = 0
    for sent, body in enumerate(bodies, 1):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        if sent >= count or time.perf_counter() - start > TIME_LIMIT:
            break
    return sent / (time.perf_counter() - start), sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (default 2000)")
    args = parser.parse_args()
    worst_in_process = float("inf")
    print(f"{'provider':8} {'way in':11} {'requests':>8} {'req/s':>8}")
    for provider in all_providers():
        headers = provider.auth_headers(DEFAULT_TOKEN)
        api = build(provider)
        with respx.mock(assert_all_called=False) as router, httpx.Client() as client:
            mount(router, api, provider.server)
            rate, sent = measure(client, provider.server + provider.path_for(api.chat_id), headers, args.requests)
        worst_in_process = min(worst_in_process, rate)
        print(f"{provider.name:8} {'in-process':11} {sent:8d} {rate:8.0f}")
        api = build(provider)
        with serving(api) as base_url, httpx.Client() as client:
            rate, sent = measure(client, base_url + provider.path_for(api.chat_id), headers, args.requests // 4)
        print(f"{provider.name:8} {'loopback':11} {sent:8d} {rate:8.0f}")
    met = worst_in_process >= GOAL_IN_PROCESS
    print(f"goal >= {GOAL_IN_PROCESS:.0f} req/s in-process: {'met' if met else 'MISSED'} ({worst_in_process:.0f})")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
