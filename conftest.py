"""Repo-wide pytest setup. The chat-contracts plugin installs itself (entry point `pytest11`); the
project's own tests also use pytester, to run pytest sessions in-process.

Hypothesis keeps its files (Unicode tables) in the user's cache, as the suite does when it runs: the
tests write nothing into the repository.
"""

from chat_contracts.core.cache import keep_hypothesis_files_in_the_cache
from chat_contracts.provider.generated import import_whole_package

pytest_plugins = ["pytester"]

keep_hypothesis_files_in_the_cache()
# An in-process pytest session (pytester) drops the modules it imported when it ends, and the next imports
# them again: with all of ours imported first, every session in this process sees one copy of each.
import_whole_package()
