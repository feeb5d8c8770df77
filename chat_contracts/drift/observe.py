"""Drift seen in traffic: what a provider does that is not a violation but is not documented either.

`Observations` reads the exchanges of a run: response fields the contract does not name (with example
values and how often), undocumented status codes and headers, enum values seen against the documented
ones, JSON types seen per field. It writes a Markdown report, the same as JSON, and a candidate OpenAPI
document (the contract plus what was observed) for `chat-contracts drift` to classify. Given the
previous run's report, it also says what changed since (`history`).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from chat_contracts.core.documents import Document
from chat_contracts.core.http import Exchange
from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import Provider
from chat_contracts.core.schema import Shape, json_type
from chat_contracts.drift import history

# Headers any HTTP server or proxy sends: their presence says nothing about the API.
TRANSPORT_HEADERS = frozenset({
    "date", "server", "content-type", "content-length", "connection", "keep-alive", "transfer-encoding",
    "vary", "cache-control", "pragma", "expires", "etag", "last-modified", "content-encoding",
    "strict-transport-security", "retry-after", "allow", "x-request-id", "x-correlation-id", "via", "age",
    "alt-svc",
})  # fmt: skip
EXAMPLES_KEPT = 3
# What one run keeps, whatever a provider sends: a body under the size cap may still hold 700,000 distinct
# keys or a 9 MB string, and every response adds to these tables.
MAX_NAMES = 500  # distinct field names, header names, enum values per field
MAX_EXAMPLE = 200  # characters of an example value's JSON


@dataclass
class FieldSeen:
    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    examples: list[Any] = field(default_factory=list)

    def add(self, value: Any, redact: Redactor) -> None:
        self.count += 1
        self.types[json_type(value)] += 1
        if len(self.examples) < EXAMPLES_KEPT:
            example = _example(value, redact)
            if example not in self.examples:
                self.examples.append(example)


def _example(value: Any, redact: Redactor) -> Any:
    """`value` itself when it is small; else the start of its JSON, marked as cut (redacted before it is cut:
    a secret the cut ran through would no longer be found when the report is written)."""
    if isinstance(value, (dict, list, str)):
        text = json.dumps(value, ensure_ascii=False)
        if len(text) > MAX_EXAMPLE:
            return redact.clip(text, MAX_EXAMPLE)
    return value


def _count(table: Counter[Any] | dict[str, Any], key: Any) -> bool:
    """Whether `key` has (or may now get) a place in `table`, which keeps MAX_NAMES keys at most."""
    return key in table or len(table) < MAX_NAMES


@dataclass
class Observations:
    provider: Provider
    redact: Redactor = field(default_factory=Redactor)  # for what is cut as it is kept (the rest: when written)
    bodies: int = 0  # 2xx chat bodies seen
    fields: dict[str, FieldSeen] = field(default_factory=dict)  # every field seen, dotted for nested ones
    statuses: Counter[int] = field(default_factory=Counter)
    headers: Counter[str] = field(default_factory=Counter)
    enums: dict[str, Counter[str]] = field(default_factory=dict)
    names_not_kept: int = 0  # how many times a name (field, header, enum value) past MAX_NAMES was seen

    @cached_property
    def response_shape(self) -> Shape:
        return self.provider.chat_shape

    # --- recording ---------------------------------------------------------------------------------

    def record(self, exchange: Exchange) -> None:
        self.statuses[exchange.status] += 1
        for name in exchange.response_headers:
            if name not in TRANSPORT_HEADERS:
                if _count(self.headers, self._kept(name)):
                    self.headers[self._kept(name)] += 1
                else:
                    self.names_not_kept += 1
        try:
            body = exchange.json
        except ValueError:
            return
        if exchange.ok and isinstance(body, dict):
            self.bodies += 1
            self._walk(body, self.response_shape, "")

    def _walk(self, body: dict[str, Any], documented: Shape | None, prefix: str) -> None:
        for name, value in body.items():
            dotted = prefix + self._kept(name)
            if not _count(self.fields, dotted):
                self.names_not_kept += 1
                continue
            self.fields.setdefault(dotted, FieldSeen()).add(value, self.redact)
            sub = documented.properties.get(name) if documented else None
            if sub is not None and sub.enum is not None and isinstance(value, str):
                seen = self.enums.setdefault(dotted, Counter())
                if _count(seen, self._kept(value)):
                    seen[self._kept(value)] += 1
                else:
                    self.names_not_kept += 1
            if isinstance(value, dict) and sub is not None and sub.properties:
                self._walk(value, sub, dotted + ".")

    def _kept(self, name: str) -> str:
        """A name as it is kept: a name longer than MAX_EXAMPLE characters (a 1 MB key) is cut."""
        return name if len(name) <= MAX_EXAMPLE else self.redact.clip(name, MAX_EXAMPLE)

    # --- what it means -----------------------------------------------------------------------------

    def documented_field(self, dotted: str) -> Shape | None:
        node: Shape | None = self.response_shape
        for part in dotted.split("."):
            node = node.properties.get(part) if node else None
        return node

    def undocumented_fields(self) -> dict[str, FieldSeen]:
        return {name: seen for name, seen in self.fields.items() if self.documented_field(name) is None}

    def undocumented_statuses(self) -> dict[int, int]:
        documented = set(self.provider.documented_statuses())
        return {
            status: count
            for status, count in sorted(self.statuses.items())
            if str(status) not in documented and f"{str(status)[0]}XX" not in documented
        }

    def enum_drift(self) -> dict[str, dict[str, Any]]:
        drift = {}
        for name, seen in self.enums.items():
            field_shape = self.documented_field(name)
            documented = sorted(map(str, (field_shape.enum if field_shape else None) or ()))
            drift[name] = {
                "documented": documented,
                "seen": dict(seen),
                "undocumented": sorted(set(seen) - set(documented)),
            }
        return drift

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider.name,
            "responses_seen": sum(self.statuses.values()),
            "chat_bodies_seen": self.bodies,
            "undocumented_fields": {
                name: {"seen": seen.count, "of": self.bodies, "types": dict(seen.types), "examples": seen.examples}
                for name, seen in self.undocumented_fields().items()
            },
            "undocumented_statuses": self.undocumented_statuses(),
            "undocumented_headers": dict(sorted(self.headers.items())),
            "enums": self.enum_drift(),
            "field_types": {name: dict(seen.types) for name, seen in sorted(self.fields.items())},
            "names_not_kept": self.names_not_kept,
        }

    # --- writing -----------------------------------------------------------------------------------

    def markdown(self) -> str:
        data = self.to_dict()
        lines = [
            f"# Drift observed: {self.provider.title}",
            "",
            f"{data['responses_seen']} responses seen, {self.bodies} of them chat bodies. Nothing below is a contract "
            "violation; all of it is behaviour the contract does not document.",
            *(
                [
                    "",
                    f"{self.names_not_kept:,} times, a name (of a field, a header, an enum value) was seen and not "
                    f"kept: a run keeps {MAX_NAMES} of each kind.",
                ]
                if self.names_not_kept
                else []
            ),
            "",
            "## Undocumented response fields",
            "",
        ]
        if data["undocumented_fields"]:
            lines += ["| field | seen in | types | examples |", "| --- | --- | --- | --- |"]
            for name, seen in data["undocumented_fields"].items():
                examples = ", ".join(f"`{json.dumps(e, ensure_ascii=False)}`" for e in seen["examples"])
                lines.append(f"| `{name}` | {seen['seen']}/{seen['of']} | {', '.join(seen['types'])} | {examples} |")
        else:
            lines.append("None.")
        lines += ["", "## Undocumented status codes", ""]
        statuses = data["undocumented_statuses"]
        lines.append(", ".join(f"{s}: {n}" for s, n in statuses.items()) if statuses else "None.")
        lines += ["", "## Undocumented response headers", ""]
        headers = data["undocumented_headers"]
        lines.append(", ".join(f"`{h}`: {n}" for h, n in headers.items()) if headers else "None.")
        lines += ["", "## Enum values", "", "| field | documented | seen | undocumented |", "| --- | --- | --- | --- |"]
        for name, enum in data["enums"].items():
            seen = ", ".join(f"{v}: {n}" for v, n in enum["seen"].items())
            lines.append(
                f"| `{name}` | {', '.join(enum['documented'])} | {seen} | {', '.join(enum['undocumented']) or '-'} |"
            )
        lines += ["", "## Field types seen", "", "| field | types |", "| --- | --- |"]
        lines += [
            f"| `{n}` | {', '.join(f'{t}: {c}' for t, c in types.items())} |"
            for n, types in data["field_types"].items()
        ]
        return "\n".join(lines) + "\n"

    def candidate_document(self) -> dict[str, Any]:
        """The contract with what was observed added: for `chat-contracts drift CONTRACT THIS`."""
        doc = copy.deepcopy(self.provider.document.data)
        info = doc.setdefault("info", {})
        info["description"] = f"Observed by chat-contracts from {sum(self.statuses.values())} responses."
        candidate = Document(doc, "candidate")
        chat = candidate.deref(candidate.resolve(self.provider.chat_schema_pointer))
        for name, seen in self.undocumented_fields().items():
            if "." in name:
                continue  # nested extras stay in the report; the candidate adds top-level fields
            types = sorted(seen.types)
            chat.setdefault("properties", {})[name] = {"type": types[0] if len(types) == 1 else types}
            if seen.count == self.bodies:
                chat.setdefault("required", []).append(name)
        for name, enum in self.enum_drift().items():
            if enum["undocumented"] and "." not in name:
                # An inline copy: the enum may be shared with requests, about which traffic says nothing.
                node = copy.deepcopy(candidate.deref(chat["properties"][name]))
                chat["properties"][name] = node | {"enum": [*node["enum"], *enum["undocumented"]]}
        responses = candidate.resolve(self.provider.operation_pointer)["responses"]
        for status in self.undocumented_statuses():
            responses[str(status)] = {"description": "Observed by chat-contracts; not documented."}
        return doc

    def write(self, path: Path, *, since: Path | None = None, redact: Redactor | None = None) -> list[Path]:
        """PATH (Markdown), PATH.json and PATH.openapi.yaml, redacted; returns what was written.

        With `since` (a previous run's PATH.json), the Markdown and the JSON also say what is new since
        that run and what is no longer seen, so a nightly report shows the change, not everything again.
        """
        redact = redact or Redactor()
        data = self.to_dict()
        report = self.markdown()
        if since is not None:  # read before anything is written: PATH.json may be the previous report itself
            data["since"] = history.since(since, json.loads(json.dumps(data)))
            report += "\n".join(history.markdown(data["since"])) + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        written = [path, path.with_suffix(".json"), path.with_suffix(".openapi.yaml")]
        # errors=: a provider's lone surrogate ("\ud800" in a JSON string) is written as an escape, not a crash
        written[0].write_text(redact(report), encoding="utf-8", errors="backslashreplace")
        written[1].write_text(
            redact(json.dumps(data, indent=2, ensure_ascii=False)) + "\n", encoding="utf-8", errors="backslashreplace"
        )
        # Redacted as data too: YAML escapes and folds long strings in its own ways (`\0`, a line break inside).
        document = redact.data(self.candidate_document())
        candidate = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=float("inf"))
        written[2].write_text(redact(candidate), encoding="utf-8", errors="backslashreplace")
        return written
