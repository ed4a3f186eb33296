"""Resource limits: every quantity in the guide's tables maps to the exact Docker value.

Docker (`opts.ParseCPUs`, as the provider calls it) turns `cpus` into NanoCpus as an
exact rational times 1e9, and the provider turns `memory` MiB into bytes times
1024 * 1024; these tests apply the same arithmetic to what the specs emit.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plexica_infra.docker.container import container_specs
from plexica_infra.docker.container_spec import provider_cpus
from plexica_infra.manifest import PluginManifest
from plexica_infra.quantities import (
    MAX_CPU_MILLICORES,
    MAX_MEMORY_BYTES,
    MIN_MEMORY_BYTES,
)
from tests.conftest import shipped_manifest
from tests.docker.conftest import _base_config

MIB = 1024 * 1024


def _with_resources(cpu: str = "500m", memory: str = "512Mi", requests: dict[str, str] | None = None) -> PluginManifest:
    data = shipped_manifest("crm")
    data["runtime"]["resources"] = {"cpu": cpu, "memory": memory, "requests": requests or {}}
    return PluginManifest.model_validate(data)


def nano_cpus(cpus: str) -> int:
    """Docker's ParseCPUs: exact decimal times 1e9, rejected unless it is a whole number."""
    value = Decimal(cpus) * 10**9
    assert value == value.to_integral_value(), f"{cpus} is not a whole number of nano-CPUs"
    return int(value)


# (manifest cpu, docker `cpus`, NanoCpus): the guide's CPU formats and recommended limits.
CPU_TABLE = [
    ("500m", "0.5", 500_000_000),
    ("1", "1.0", 1_000_000_000),
    ("2", "2.0", 2_000_000_000),
    ("1.5", "1.5", 1_500_000_000),
    ("250m", "0.25", 250_000_000),
    ("2000m", "2.0", 2_000_000_000),
]

# (manifest memory, docker `memory` MiB): the guide's memory formats and recommended limits.
# Decimal units round down, so the enforced limit never exceeds the declared one.
MEMORY_TABLE = [
    ("512Mi", 512),
    ("1Gi", 1024),
    ("2Gi", 2048),
    ("500M", 476),  # 500 000 000 B = 476.84 MiB
    ("2G", 1907),  # 2 000 000 000 B = 1907.35 MiB
    ("256Mi", 256),
    ("1024M", 976),  # 1 024 000 000 B = 976.56 MiB
]


@pytest.mark.parametrize(("cpu", "cpus", "nano"), CPU_TABLE)
def test_cpu_limit_is_the_exact_docker_value(cpu: str, cpus: str, nano: int) -> None:
    (spec,) = container_specs(_with_resources(cpu=cpu), _base_config())
    assert spec.cpus == cpus
    assert nano_cpus(spec.cpus) == nano


@pytest.mark.parametrize(("memory", "mib"), MEMORY_TABLE)
def test_memory_limit_is_the_exact_docker_value(memory: str, mib: int) -> None:
    (spec,) = container_specs(_with_resources(memory=memory), _base_config())
    assert spec.memory_mib == mib
    assert spec.memory_swap_mib == mib


@pytest.mark.parametrize(("memory", "mib"), MEMORY_TABLE)
def test_memory_reservation_uses_the_same_rounding(memory: str, mib: int) -> None:
    (spec,) = container_specs(_with_resources(memory="4Gi", requests={"memory": memory}), _base_config())
    assert spec.memory_reservation_mib == mib


def test_the_guides_compose_reservations() -> None:
    """The guide pairs cpus 0.5 / 512M with reservations 0.25 / 256M; the manifest's
    requests become memory_reservation (Docker has no CPU reservation for containers)."""
    (spec,) = container_specs(_with_resources("500m", "512M", {"cpu": "250m", "memory": "256M"}), _base_config())
    assert spec.cpus == "0.5"
    assert spec.memory_mib == 488  # 512 000 000 B
    assert spec.memory_reservation_mib == 244  # 256 000 000 B


def read_back(nano: int) -> str:
    """terraform-provider-docker v4.5.0 `nanoInt64ToDecimalString`: how the provider writes
    NanoCpus back into `cpus` after reading the container."""
    value = Decimal(nano) / 10**9
    text = format(value, ".9f")  # big.Rat.FloatString(9)
    if text.count("0") == 9:
        return format(value, ".1f")
    return text.rstrip("0")


@pytest.mark.parametrize(("cpu", "cpus", "nano"), CPU_TABLE)
def test_cpu_limit_reads_back_unchanged(cpu: str, cpus: str, nano: int) -> None:
    """`cpus` forces replacement; what the provider reads back must equal what we send."""
    assert read_back(nano) == cpus


@given(st.integers(min_value=1, max_value=MAX_CPU_MILLICORES))
def test_every_cpu_quantity_is_exact_in_nano_cpus(millicores: int) -> None:
    assert nano_cpus(provider_cpus(millicores)) == millicores * 1_000_000


_UNITS = {"Mi": MIB, "Gi": 1024 * MIB, "M": 10**6, "G": 10**9}


@given(
    st.sampled_from(sorted(_UNITS)).flatmap(
        lambda unit: st.tuples(
            st.integers(min_value=-(-MIN_MEMORY_BYTES // _UNITS[unit]), max_value=MAX_MEMORY_BYTES // _UNITS[unit]),
            st.just(unit),
        )
    )
)
def test_enforced_memory_never_exceeds_the_declared_limit(quantity: tuple[int, str]) -> None:
    amount, unit = quantity
    declared = amount * _UNITS[unit]
    (spec,) = container_specs(_with_resources(cpu="1", memory=f"{amount}{unit}"), _base_config())
    assert spec.memory_mib * MIB <= declared < (spec.memory_mib + 1) * MIB
