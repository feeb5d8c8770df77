"""chat-contracts: contract tests for the Whop and Wilson "update a chat" APIs.

The public surface: the command (`chat-contracts`), the pytest plugin (fixtures `provider_mock`,
`contract_mock`; the shipped suite `chat_contracts.suite`), the consumer side (`chat_contracts.consumer`)
and the one error base below. Everything else is inside the packages and may change.
"""

from chat_contracts.core.errors import ChatContractsError

__version__ = "0.1.0"
__all__ = ["ChatContractsError", "__version__"]
