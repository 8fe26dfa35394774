"""Web pages of services and waits."""
