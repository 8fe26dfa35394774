"""One module per FHIR resource: each turns rows the selectors already let the
caller see into that resource, as plain JSON-ready dicts. No module here reads
the database: what they are given is what the caller may see."""
