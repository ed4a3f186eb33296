"""The public API is `__all__`, and `__all__` is complete."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest
from pulumi.dynamic import Resource, ResourceProvider

import plexica_infra.contract
import plexica_infra.core_api
import plexica_infra.providers
import plexica_infra.providers.dialects
from plexica_infra.providers import CoreApiError


def _private_modules(package: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("_") and info.name != "__main__"
    ]


@pytest.mark.parametrize(
    "package",
    [plexica_infra.providers, plexica_infra.providers.dialects, plexica_infra.core_api, plexica_infra.contract],
    ids=lambda p: p.__name__,
)
def test_every_name_in_all_resolves_and_all_is_sorted(package: ModuleType) -> None:
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    constants = [name for name in package.__all__ if name.isupper()]
    others = [name for name in package.__all__ if not name.isupper()]
    assert package.__all__ == sorted(constants) + sorted(others)
    assert len(set(package.__all__)) == len(package.__all__)


@pytest.mark.parametrize(
    "package",
    [plexica_infra.providers, plexica_infra.providers.dialects, plexica_infra.contract],
    ids=lambda p: p.__name__,
)
def test_the_package_exports_everything_it_imports(package: ModuleType) -> None:
    # Subpackages (`providers.dialects`) are modules of their own, with their own __all__.
    public = {
        name for name, value in vars(package).items() if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public == set(package.__all__)


@pytest.mark.parametrize(
    "base",
    [Resource, ResourceProvider, CoreApiError],
    ids=["resources", "providers", "errors"],
)
def test_every_resource_provider_and_error_is_exported(base: type) -> None:
    defined = {
        name
        for module in _private_modules(plexica_infra.providers)
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, base) and value.__module__ == module.__name__
    }
    assert defined, f"no {base.__name__} found"
    assert defined <= set(plexica_infra.providers.__all__)


def test_the_emulator_package_loads_exactly_its_all_lazily() -> None:
    homes: dict[str, str] = plexica_infra.core_api._HOME_OF
    assert set(homes) == set(plexica_infra.core_api.__all__)
    for name, home in homes.items():
        module = importlib.import_module(
            home if home.startswith("plexica_infra.") else f"plexica_infra.core_api.{home}"
        )
        assert name in module.__all__
        assert getattr(plexica_infra.core_api, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = plexica_infra.core_api.nothing
