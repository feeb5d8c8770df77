"""One base for the tool's own errors.

Everything chat-contracts raises on purpose derives from `ChatContractsError`, whose message is one
line meant for the user (no traceback needed). The command line and the pytest plugin catch this base
and nothing broader: any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class ChatContractsError(Exception):
    """A problem the user can act on; `str(error)` is one line that says what and where."""


class UsageError(ChatContractsError):
    """An option, a combination of options or an environment variable that cannot be used."""


class DocumentError(ChatContractsError):
    """A document (a spec, a baseline, a report) that cannot be read as what it should be."""


class UnknownNameError(ChatContractsError):
    """A name (provider, fault, check) that the registry does not know."""


class RunAbortedError(ChatContractsError):
    """A run that cannot go on (out of requests, rate-limited past the wait budget, unreachable)."""


class SetupError(RunAbortedError):
    """A run that cannot start at all: the provider is unreachable, refuses the token or does not know the chat."""
