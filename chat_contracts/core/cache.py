"""Where chat-contracts keeps what it computes once per machine: never in the working directory.

`$XDG_CACHE_HOME/chat-contracts` (default `~/.cache/chat-contracts`). Hypothesis keeps its own files
(its Unicode tables, computed once at a cost of some 200 MB and a second) under `hypothesis/` there when
chat-contracts runs the suite, instead of a `.hypothesis/` directory in whatever directory a user or a
CI job runs it from.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chat-contracts"


def keep_hypothesis_files_in_the_cache() -> None:
    """Point hypothesis' home directory (its Unicode tables; we use no example database) at the cache."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(cache_dir() / "hypothesis")
