"""The portal's part in routing: email notices to the client (docs/portal.md)."""
