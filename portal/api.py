"""REST API of the client portal (docs/portal.md)."""
