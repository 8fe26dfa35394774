"""Forms of the capacity pages."""
