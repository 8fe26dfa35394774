"""Access: the consent gate as lookups, for every face.

Each `access_*` lookup answers "missing" and "not yours" alike — Django's
`Http404`, which the API and the pages both render as their 404 — so a caller
learns nothing of what it may not see (docs/access-rules.md). `rest` and
`pages` put the client lookup in front of every client-scoped API view and page.
"""
