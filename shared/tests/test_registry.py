"""Services are found through the entry points they declare, not imported by name by the platform."""

import pytest

from beat_shared import registry
from beat_shared.config import PAGE_SERVICES, RUNNABLE_SERVICES, SERVICE_NAMES


def test_every_runnable_service_declares_its_class():
    assert set(registry.registered(registry.SERVICES)) == set(RUNNABLE_SERVICES)
    for name in RUNNABLE_SERVICES:
        assert registry.service_class(name).name == name  # nameko's service name, as the class says


def test_the_four_services_declare_migrations_and_demo_data_and_the_pages_neither():
    assert set(registry.registered(registry.MIGRATIONS)) == set(SERVICE_NAMES)
    assert set(registry.registered(registry.DEMO)) == set(SERVICE_NAMES)
    for name in SERVICE_NAMES:
        assert (registry.migrations_directory(name) / "env.py").is_file()
        assert callable(registry.demo_seed(name))
    for name in PAGE_SERVICES:
        with pytest.raises(registry.NotRegistered, match=name):
            registry.migrations_directory(name)


def test_agency_provisioning_is_the_one_referrals_declares():
    assert list(registry.registered(registry.AGENCY)) == ["referrals"]
    assert registry.agency_command().__module__ == "referrals.provisioning"


def test_a_service_nobody_installed_is_named_in_the_error():
    with pytest.raises(registry.NotRegistered, match=r"'patrols'.*beat\.services"):
        registry.service_class("patrols")
