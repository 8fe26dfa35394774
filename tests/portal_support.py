"""A client's portal account for tests that need one opened the way a client
opens it: an invite from the care team, then activation with the code and the
birth date (portal.services)."""

from portal import services
from records.models import Client, Provider

PASSWORD = "a long walk by the lake"


def open_portal_account(client: Client, provider: Provider, username: str = "ana") -> Provider:
    _, code = services.issue_portal_invite(provider=provider, client=client)
    return services.activate_portal_account(
        code=code,
        birth_date=client.birth_date,
        username=username,
        password=PASSWORD,
        address="198.51.100.4",
    )
