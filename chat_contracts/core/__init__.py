"""The shared core: contracts as data (documents, schemas, formats, the registry), bounded HTTP, redaction, text.

It imports no job: `reference`, `provider`, `consumer` and `drift` build on it (see ARCHITECTURE.md).
"""
