"""The email notices opt-out page (docs/portal.md)."""
