"""Use the tool as another repository would: the wheel built from this repo, installed into a fresh venv
outside it, with nothing of the repo at hand.

1. `chat-contracts verify` against `chat-contracts serve`: exit 0 on the reference, 1 on a fault (JUnit written).
2. The pytest plugin installs itself: a test file in an empty directory, no conftest, uses both fixtures.
3. `pytest --pyargs chat_contracts.suite` runs the suite from the installed package, also beside
   pytest-xdist, pytest-timeout and pytest-base-url, whose options it must not clash with; under `-n 2` the
   JUnit rows are named as without it.

Every step is bounded in time; the served mock is stopped whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKEN = "cc_test_token"
PLUGIN_TEST = """
import httpx


def test_provider_mock(provider_mock):
    api = provider_mock("whop")
    response = httpx.patch(
        f"https://api.whop.com/api/v1/ai_chats/{api.chat_id}",
        json={"title": "Q3 review"},
        headers={"Authorization": "Bearer cc_test_token"},
    )
    assert response.status_code == 200 and response.json()["title"] == "Q3 review"


def test_contract_mock(contract_mock):
    mock = contract_mock("wilson")
    httpx.patch(
        "https://wilson.40mat.com/apif/v2/chat/6673caafdf6f247417a1b2c3",
        json={"title": "Weekly sync"},
        headers={"Authorization": "Bearer a-token"},
    )
    assert len(mock.requests) == 1
"""


def run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(map(str, args)), flush=True)
    return subprocess.run(
        list(map(str, args)), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def check(result: subprocess.CompletedProcess[str], status: int, what: str) -> None:
    if result.returncode != status:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        sys.exit(f"fresh install: {what}: exit {result.returncode}, expected {status}")
    print(f"ok: {what}", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="chat-contracts-fresh-") as temp:
        root = Path(temp)
        built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", root / "dist", REPO, cwd=root)
        check(built, 0, "build the wheel")
        wheel = next((root / "dist").glob("chat_contracts-*.whl"))
        venv.create(root / "venv", with_pip=True)
        python = root / "venv" / "bin" / "python"
        installed = run(python, "-m", "pip", "install", "--quiet", wheel, cwd=root)
        check(installed, 0, f"install {wheel.name} into a fresh venv")
        work = root / "elsewhere"
        work.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTRACT_", "VIRTUAL_ENV"))}
        env |= {"PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}", "CONTRACT_TOKEN": TOKEN}
        check(run("chat-contracts", "--version", cwd=work, env=env), 0, "chat-contracts --version")
        for fault, status in ((None, 0), ("title-not-applied", 1)):
            serve = [python.parent / "chat-contracts", "serve", "--provider", "whop", "--port", "0"]
            server = subprocess.Popen([*map(str, serve), *(["--fault", fault] if fault else [])], cwd=work, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
            try:
                lines = [server.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
                base_url = next(line.split(": ", 1)[1].strip() for line in lines if line.startswith("base URL:"))
                junit = work / f"junit-{fault or 'reference'}.xml"
                verified = run("chat-contracts", "verify", "--provider", "whop", "--base-url", base_url, "--chat-id",
                               "aich_k2JdQvX8mP4rTz", "--junitxml", junit, cwd=work, env=env)  # fmt: skip
                check(verified, status, f"chat-contracts verify against serve {fault or '(reference)'}")
                rows = list(ET.parse(junit).getroot().iter("testcase"))
                print(f"ok: {junit.name} has {len(rows)} rows", flush=True)
            finally:
                server.send_signal(signal.SIGINT)
                server.communicate(timeout=30)
        (work / "test_my_client.py").write_text(PLUGIN_TEST, encoding="utf-8")
        check(run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_client.py", cwd=work, env=env), 0,
              "the fixtures, in a directory with no conftest")  # fmt: skip
        mocks = {k: v for k, v in env.items() if k != "CONTRACT_TOKEN"}
        suite = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs", "chat_contracts.suite"]
        check(run(*suite, "--junitxml", "plain.xml", cwd=work, env=mocks), 0,
              "pytest --pyargs chat_contracts.suite (the built-in mocks)")  # fmt: skip
        plugins = run(python, "-m", "pip", "install", "--quiet", "pytest-xdist", "pytest-timeout", "pytest-base-url",
                      cwd=root)  # fmt: skip
        check(plugins, 0, "install pytest-xdist, pytest-timeout, pytest-base-url beside it")
        spread = run(*suite, "-n", "2", "--timeout", "600", "--base-url", "https://example.test", "--junitxml",
                     "spread.xml", cwd=work, env=mocks)  # fmt: skip
        check(spread, 0, "the suite under -n 2, with --timeout and --base-url of the other plugins")
        names = [
            {c.get("name") for c in ET.parse(work / f).getroot().iter("testcase")} for f in ("plain.xml", "spread.xml")
        ]
        if names[0] != names[1] or len(names[0]) < 30:
            sys.exit(f"fresh install: JUnit rows differ under -n 2: {sorted(names[0] ^ names[1])}")
        print(f"ok: the same {len(names[0])} JUnit rows with and without -n 2", flush=True)
    print("fresh install: all good")


if __name__ == "__main__":
    main()
