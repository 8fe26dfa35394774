"""The FHIR R4 read API (docs/fhir.md).

`fhir` is also the name of the package that `fhir.resources` (the FHIR models
the tests validate with) installs. This app comes first on the path, so it
extends its own package path with the installed one: `fhir.resources` stays
importable beside `fhir.api`. No module of this app is called `resources`.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
