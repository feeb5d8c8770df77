"""The contract suite, shipped in the package: `pytest --pyargs chat_contracts.suite` or `chat-contracts verify`."""
