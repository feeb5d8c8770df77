"""The contracts, shipped as package data (see pyproject.toml)."""
