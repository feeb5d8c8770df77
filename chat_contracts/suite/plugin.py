"""The contract suite under pytest: one row per provider and check, the run behind them, the summary.

Activated by the `chat_contracts` pytest plugin only when the suite itself is collected (so other test
runs never read `CONTRACT_*` or send anything). The run of a provider happens once, in the process
that runs its rows (under pytest-xdist all rows of the suite go to one worker: `--dist load` becomes
`loadscope`, which keeps test names as they are). That process takes the snapshot, runs every phase,
puts the chat back and writes the reports; each row then shows one check's verdict: passed (held),
failed (broken, with its violations), skipped (not exercised, with why), xfailed (only known
violations). The summary and the exit status are decided where the reports arrive: exit 4 when a
provider could not be run at all, 1 for violations or a chat not restored.

Every report leaves through `pytest_runtest_makereport`, where every secret is redacted: the terminal,
JUnit XML and xdist all see redacted text only.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import threading
import traceback
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.cache import keep_hypothesis_files_in_the_cache
from chat_contracts.core.errors import ChatContractsError
from chat_contracts.core.http import BoundedClient
from chat_contracts.core.redact import Redactor
from chat_contracts.drift.observe import Observations
from chat_contracts.provider import baseline
from chat_contracts.provider.checks import CHECKS
from chat_contracts.provider.har import HarLog
from chat_contracts.provider.report import explain, replay_for, summary_lines
from chat_contracts.provider.verify import CHAT_RESTORED, RUN_COMPLETED, RunResult, verify
from chat_contracts.reference.faults import build
from chat_contracts.reference.transport import mock_transport
from chat_contracts.suite.config import SuiteConfig, per_provider, read_config, writable
from chat_contracts.suite.options import CLI, PYTEST, FrontEnd

# Each row's report carries its provider's summary (xdist serializes a report's attributes back to the
# controller; JUnit XML does not show them). Redacted where it is made, as data: its keys stay intact.
SUMMARY = "chat_contracts_summary"
JUNIT_CLASSNAME = "chat_contracts.suite.test_contract"
# pytest's JUnit XML writer, in the controller (a private key: if it moves, classnames are pytest's own).
_JUNIT_XML: Any = getattr(importlib.import_module("_pytest.junitxml"), "xml_key", None)
_ROW_SUMMARY = pytest.StashKey[str]()
_CONFIG = pytest.StashKey[SuiteConfig]()


def rows(config: SuiteConfig) -> list[str]:
    """The rows of each provider: every check, whether the run completed, and (live) whether the chat was put back."""
    return [*CHECKS, RUN_COMPLETED, *([CHAT_RESTORED] if config.live else [])]


def _front_end_of_controller(config: pytest.Config) -> FrontEnd:
    """In an xdist worker, the front end the controller was started by (see `pytest_configure_node`)."""
    workerinput = getattr(config, "workerinput", {})
    return CLI if workerinput.get(_FRONT_END_KEY) == "cli" else PYTEST


def suite_config(config: pytest.Config) -> SuiteConfig:
    """The suite's settings, read on first use (only when the suite is collected); a UsageError is one line."""
    if _CONFIG not in config.stash:
        front = config.stash.get(FRONT_END, None) or _front_end_of_controller(config)
        try:
            suite = read_config(lambda name: config.getoption("contract_" + name.replace("-", "_")), os.environ, front)
            if getattr(config.option, "xmlpath", None):  # pytest's own option: known bad before a live run, too
                writable(Path(config.option.xmlpath), "--junitxml")
        except ChatContractsError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[_CONFIG] = suite
        keep_hypothesis_files_in_the_cache()  # a session that runs the suite writes no .hypothesis/ where it runs
        if not config.pluginmanager.has_plugin(PLUGIN_NAME):
            config.pluginmanager.register(SuitePlugin(config, suite), PLUGIN_NAME)
    return config.stash[_CONFIG]


PLUGIN_NAME = "chat-contracts-suite"
_FRONT_END_KEY = "chat_contracts_front_end"
FRONT_END = pytest.StashKey[FrontEnd]()  # how the suite was started, for the lines that rerun a row


@contextmanager
def _redacted_logs(redact: Redactor) -> Iterator[None]:
    """Log records made during a run are redacted as they are made: `--log-cli-level=DEBUG` shows httpcore's
    headers, a provider's echo of the token among them, and a log file is written as it goes."""
    make = logging.getLogRecordFactory()

    def redacted(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), ()
            if record.exc_info:  # formatted here, redacted, and kept as the text handlers print
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:  # a message its arguments do not fit: nothing of it is shown rather than a secret
            record.msg, record.args, record.exc_info, record.exc_text = (
                "(a log message that could not be redacted)",
                (),
                None,
                None,
            )
        return record

    logging.setLogRecordFactory(redacted)
    try:
        yield
    finally:
        if logging.getLogRecordFactory() is redacted:  # unless someone set another since
            logging.setLogRecordFactory(make)


def _worker_pid(node: Any) -> int | None:
    """An xdist worker's process id, from execnet's popen gateway (a private attribute: None if it moves)."""
    pid = getattr(getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None), "pid", None)
    return pid if isinstance(pid, int) else None


@contextmanager
def _on_sigterm(handle: Callable[[], None]) -> Iterator[None]:
    """Call `handle` on SIGTERM (CI cancellation, `timeout`) for the length of the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: handle())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(eq=False)  # registered with pluggy, which keeps plugins in sets: hashed by identity
class SuitePlugin:
    config: pytest.Config
    suite: SuiteConfig
    results: dict[str, RunResult] = field(default_factory=dict)  # the runs of this process
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # every run, from the reports
    written: list[str] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)  # xdist, in the controller: its workers' processes

    def __post_init__(self) -> None:
        self.redact = Redactor(self.suite.secrets)
        self.front = self.config.stash.get(FRONT_END, None) or _front_end_of_controller(self.config)

    def _leaving(self, text: str) -> str:
        """Text as it leaves for the terminal, JUnit or a file: options spelled as the user ran the suite
        (`--chat-id` under `chat-contracts verify`), and every secret redacted."""
        return self.redact(self.front.respell(text))

    # --- running a provider --------------------------------------------------------------------------

    def result(self, name: str) -> RunResult:
        if name not in self.results:
            self._run(name)  # kept in self.results before anything else can fail: a run is never repeated
            # Known here too: an interrupted run makes no report, and its summary must still be shown.
            self.summaries[self.results[name].target] = self.redact.data(self._summary(self.results[name]), keys=False)
        result = self.results[name]
        if result.interrupted:
            raise KeyboardInterrupt
        return result

    def _run(self, name: str) -> None:
        suite, target = self.suite, self.suite.targets[name]
        client = None
        if not target.live:
            api = build(target.provider, suite.fault)
            client = BoundedClient(
                timeout=suite.options.timeout,
                max_body=suite.options.max_body,
                transport_factory=lambda: mock_transport(api, target.base_url),
            )
        observed, har = Observations(target.provider, self.redact), HarLog(self.redact)
        # Only what was asked for is kept: the HAR log holds bodies, the observations what the report shows.
        observers = ([observed.record] if suite.drift_report else []) + ([har.record] if suite.har else [])
        with _redacted_logs(self.redact):
            result = self.results[name] = verify(
                target, suite.options, client=client, observers=observers, progress=self._progress
            )
        if client is not None:
            client.close()
        # Reports are written after the restore: a report never delays putting the chat back.
        many = len(suite.targets) > 1
        try:
            if suite.drift_report:
                path = per_provider(suite.drift_report, name, many)
                since = per_provider(suite.drift_since, name, many) if suite.drift_since else None
                written = observed.write(path, since=since, redact=self.redact)
                self.written += [str(p) for p in written]
            if suite.har:
                path = per_provider(suite.har, name, many)
                path.write_text(self.redact(har.text()), encoding="utf-8", errors="backslashreplace")
                self.written.append(str(path))
        except (OSError, ChatContractsError) as exc:  # a disk that filled up since the paths were checked
            result.internal_error = result.internal_error or f"the reports could not be written: {exc}"
        except Exception:  # a bug of ours: the verdicts stand, the reports are not to be trusted
            result.internal_error = result.internal_error or traceback.format_exc(limit=-8)

    def _progress(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or hasattr(self.config, "workerinput") or self.config.option.verbose < 0:
            return
        with capture.global_and_fixture_disabled() if capture else _nothing():
            reporter.write_line(self._leaving(f"chat-contracts: {line}"))

    # --- one row ----------------------------------------------------------------------------------------

    def judge(self, item: pytest.Item, name: str, row: str) -> None:
        result = self.result(name)
        item.stash[_ROW_SUMMARY] = json.dumps(self.redact.data(self._summary(result), keys=False))
        if result.setup_error:  # the checks were not exercised; the run's own row is red on any dashboard
            if row == RUN_COMPLETED:
                pytest.fail(f"[{result.target}] could not be run: {result.setup_error}", pytrace=False)
            pytest.skip(f"not exercised: {name} could not be run: {result.setup_error}")
        if row == RUN_COMPLETED:
            if result.internal_error:
                stopped = result.aborted or "the run completed, but writing its reports failed"
                pytest.fail(f"[{result.target}] {stopped}:\n{result.internal_error}", pytrace=False)
            if result.aborted:
                pytest.fail(f"[{result.target}] the run stopped before its end: {result.aborted}", pytrace=False)
            return
        if row == CHAT_RESTORED:
            restore = result.restore
            if restore is not None and not restore.restored:
                pytest.fail(
                    f"CHAT NOT RESTORED: {restore.message}\nrestore it by hand with this update: "
                    + json.dumps(restore.body, ensure_ascii=False),
                    pytrace=False,
                )
            return
        verdict = next(v for v in result.verdicts() if v.check == row)
        item.user_properties.append(("judged", str(verdict.judged)))
        if verdict.status in ("not exercised", "not applicable"):
            pytest.skip(f"{verdict.status}: {verdict.reason}")
        if verdict.status == "held":
            return
        new = [v for v in verdict.violations if baseline.key(name, v) not in self.suite.known]
        shown = new or list(verdict.violations)
        target = self.suite.targets[name]
        message = explain(
            result.target,
            shown,
            target.provider,
            self.suite.artifacts,
            self.suite.reproduce(f"{name} and {row}"),
            replay=replay_for(target, self.suite.fault),
            redact=self.redact,
        )
        if not new:
            pytest.xfail("known violations (--contract-baseline):\n" + message)
        known = len(verdict.violations) - len(new)
        pytest.fail(
            message + (f"\n({known} more violation(s) of this check are known)" if known else ""), pytrace=False
        )

    def _summary(self, result: RunResult) -> dict[str, Any]:
        restore = result.restore
        return {
            "target": result.target,
            "lines": summary_lines(result),
            "setup_error": result.setup_error,
            "internal_error": result.internal_error is not None,
            "restore": None if restore is None else asdict(restore),
            "violations": [baseline.key(result.provider, v) for v in result.violations],
            "written": self.written,
        }

    # --- hooks ------------------------------------------------------------------------------------------

    # --- SIGTERM ends a session as Ctrl-C does: chats are put back first -------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        with _on_sigterm(self._sigterm):
            return (yield)

    def _sigterm(self) -> None:
        """In the process that runs a provider: KeyboardInterrupt, which puts the chat back and ends the session.
        In an xdist controller: passed on to the workers (a controller that died would leave them seconds to
        restore before execnet ends them); they put their chats back and end, and the session with them."""
        pids, self.worker_pids = self.worker_pids, []
        if not pids:
            raise KeyboardInterrupt
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist, in the controller: workers write rerun lines and hints as the user ran the suite too."""
        node.workerinput[_FRONT_END_KEY] = "cli" if self.front is CLI else "pytest"

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """xdist, in the controller: a worker that ended is no longer signalled (its pid may be reused)."""
        pid = _worker_pid(node)
        if pid in self.worker_pids:
            self.worker_pids.remove(pid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodeready(self, node: Any) -> None:
        """xdist, in the controller: each worker's process (see `_worker_pid`)."""
        pid = _worker_pid(node)
        if pid is not None:
            self.worker_pids.append(pid)

    def pytest_report_header(self, config: pytest.Config) -> str:
        suite = self.suite
        targets = ", ".join(t.label for t in suite.targets.values())
        fault = f", fault {suite.fault}" if suite.fault else ""
        sandboxes = [
            f"; {t.provider.name} has a sandbox for first runs: {t.provider.sandbox}"
            for t in suite.targets.values()
            if t.live and t.provider.sandbox and t.base_url == t.provider.server.rstrip("/")
        ]
        fault += "".join(sandboxes)
        profile = suite.options.profile
        return self._leaving(
            f"chat-contracts: {targets}{fault}; seed {suite.options.seed}; at most {suite.options.max_requests} "
            f"requests per provider; profile {profile.name!r} ({profile.generated} generated bodies at most)"
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if _ROW_SUMMARY in item.stash:
            setattr(report, SUMMARY, item.stash[_ROW_SUMMARY])
        if not self.redact.active and self.front is PYTEST:
            return report
        if report.longrepr is not None:
            if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
                path, line, reason = report.longrepr
                report.longrepr = (path, line, self._leaving(reason))
            else:
                shown = str(report.longrepr)
                leaving = self._leaving(shown)
                if leaving != shown:  # else kept as pytest made it (JUnit's message comes from it)
                    report.longrepr = leaving
        report.sections = [(title, self._leaving(content)) for title, content in report.sections]
        report.user_properties = [(key, self._leaving(str(value))) for key, value in report.user_properties]
        if hasattr(report, "wasxfail"):
            report.wasxfail = self._leaving(report.wasxfail)
        return report

    @pytest.hookimpl(tryfirst=True)  # before JUnit XML records the row
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        dumped = getattr(report, SUMMARY, None)
        if isinstance(dumped, str):
            summary = json.loads(dumped)
            self.summaries[summary["target"]] = summary
        path, _, test = report.nodeid.partition("::")
        if path.rsplit("/", 1)[-1] == "test_contract.py" and test.startswith("test_contract["):  # a row of ours,
            self._stable_junit_classname(report)  # in any phase (an error in setup, a teardown after a failure)

    def _stable_junit_classname(self, report: pytest.TestReport) -> None:
        """JUnit's classname comes from the row's path under rootdir: from an installed package in a venv under
        the working directory it is `.venv.lib.python3.11.site-packages.chat_contracts...`, and it changes when
        the venv or Python does, which breaks a dashboard's history. The suite's rows get one name anywhere."""
        xml = self.config.stash.get(_JUNIT_XML, None) if _JUNIT_XML is not None else None
        if xml is not None:
            prefix = getattr(xml, "prefix", None)
            classname = f"{prefix}.{JUNIT_CLASSNAME}" if prefix else JUNIT_CLASSNAME
            xml.node_reporter(report).add_attribute("classname", classname)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return  # the controller decides, from the reports
        if self.suite.write_baseline and self.summaries:
            keys = [tuple(k) for s in self.summaries.values() for k in s["violations"]]
            self.suite.write_baseline.write_text(
                self._leaving(baseline.dump(keys)), encoding="utf-8", errors="backslashreplace"
            )
        if any(s["setup_error"] for s in self.summaries.values()):
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif session.exitstatus == pytest.ExitCode.OK and any(
            (s["restore"] and not s["restore"]["restored"]) or s["internal_error"] for s in self.summaries.values()
        ):  # a chat left changed, or a bug of ours, fails the session even when -k left out the rows that say so
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.summaries:
            return
        write = terminalreporter.write_line
        terminalreporter.section("chat-contracts")
        for summary in self.summaries.values():
            for line in summary["lines"]:
                write(self._leaving(line))
            restore = summary["restore"]
            if restore and restore["restored"]:
                write(self._leaving(f"chat-contracts: {restore['message']}"), green=True)
            elif restore:
                terminalreporter.write_sep("!", "CHAT NOT RESTORED", red=True, bold=True)
                write(self._leaving(f"chat-contracts: {restore['message']}"), red=True, bold=True)
                write(
                    self.redact(
                        "restore it by hand with this update: " + json.dumps(restore["body"], ensure_ascii=False)
                    ),
                    red=True,
                )
            if summary["setup_error"]:
                write(self._leaving(f"ERROR: {summary['setup_error']}"), red=True, bold=True)
        written = sorted({path for s in self.summaries.values() for path in s["written"]})
        if written:
            write("chat-contracts: wrote " + ", ".join(written))
        if self.suite.write_baseline:
            write(f"chat-contracts: baseline written to {self.suite.write_baseline}")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def plugin_for(config: pytest.Config) -> SuitePlugin:
    suite_config(config)
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(plugin, SuitePlugin)
    return plugin
