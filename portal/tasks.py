"""The portal's tasks: sending the client's email notices (docs/portal.md)."""
