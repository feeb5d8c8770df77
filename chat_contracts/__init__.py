"""chat-contracts: contract tests for the Whop and Wilson "update a chat" APIs."""

__version__ = "0.1.0"
