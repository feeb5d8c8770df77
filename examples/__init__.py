"""Example clients, tested against the contracts in tests/consumer."""
