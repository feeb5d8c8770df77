"""Audit drift: two specs compared (`differ`), a contract against the provider's published docs (`docs`),
what a provider does that its spec does not say (`observe`), and what changed since the last run (`history`)."""
