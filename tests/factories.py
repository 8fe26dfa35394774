"""factory_boy factories. They go through the services, so groups and
care-team permissions are exactly what the application itself creates."""

import datetime

import factory

from records import services as record_services
from records.models import Client, Entry, Organization, Provider


class OrganizationFactory(factory.Factory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    sector = "primary_care"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return record_services.create_organization(**kwargs)


class ProviderFactory(factory.Factory):
    class Meta:
        model = Provider

    username = factory.Sequence(lambda n: f"provider{n}")
    password = "correct horse battery staple"
    full_name = factory.Faker("name")
    organization = factory.SubFactory(OrganizationFactory)
    role = "clinician"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return record_services.create_provider(**kwargs)


class ClientFactory(factory.Factory):
    """A client registered by `registered_by` (who joins its care team)."""

    class Meta:
        model = Client

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    birth_date = datetime.date(1990, 5, 17)
    health_card_number = factory.Sequence(lambda n: f"{n:010d}")
    registered_by = factory.SubFactory(ProviderFactory)

    @classmethod
    def _create(cls, model_class, registered_by, **kwargs):
        return record_services.register_client(provider=registered_by, **kwargs).client


class EntryFactory(factory.Factory):
    class Meta:
        model = Entry

    client = factory.SubFactory(ClientFactory)
    author = factory.LazyAttribute(lambda o: o.client.created_by)
    category = "general_health"
    kind = "note"
    title = factory.Sequence(lambda n: f"Entry {n}")
    body = "Body text."

    @classmethod
    def _create(cls, model_class, **kwargs):
        return record_services.create_entry(**kwargs)
