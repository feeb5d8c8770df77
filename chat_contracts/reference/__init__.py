"""The reference implementations of both providers, the catalogue of faults and variants, the ways in (respx, HTTP)."""
