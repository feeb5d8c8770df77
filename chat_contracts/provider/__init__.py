"""Verify a provider: the cases, the checks, the phases and the run; `verify.verify` is the entry point."""
