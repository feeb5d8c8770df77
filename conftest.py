"""Repo-wide pytest setup: the chat-contracts plugin (fixtures and options) for every test here."""

pytest_plugins = ["chat_contracts.pytest_plugin"]
