"""The ground floor: what every feature app stands on, importing none of them.

The words of the product (`vocabulary`), ids, the one application error,
permissions by role, the audit (`audit`), the routing events with their
registry (`events`), and the plumbing shared by the API (`rest`) and the pages
(`pages`, `panels`). See docs/architecture.md.
"""
