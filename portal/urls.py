"""The portal API under /api/v1/portal/ and the invitation under a client."""

urlpatterns: list = []
