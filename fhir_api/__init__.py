"""The FHIR R4 read API, served under /fhir/R4/ (docs/fhir.md).

Named `fhir_api`, not `fhir`: `fhir` is the package that `fhir.resources` (the
FHIR models the tests validate with) installs, and an app of the same name
would shadow it.
"""
