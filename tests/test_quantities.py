"""Table tests for CPU and memory quantities, including round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plexica_infra.errors import QuantityError
from plexica_infra.quantities import (
    MAX_CPU_MILLICORES,
    docker_cpus,
    docker_memory_mib,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
)


@pytest.mark.parametrize(
    ("text", "millicores", "docker"),
    [
        ("500m", 500, "0.5"),
        ("250m", 250, "0.25"),
        ("2000m", 2000, "2"),
        ("1", 1000, "1"),
        ("2", 2000, "2"),
        ("1.5", 1500, "1.5"),
        ("0.01", 10, "0.01"),
        ("10m", 10, "0.01"),
        ("64", 64000, "64"),
    ],
)
def test_cpu_formats_from_the_guide(text: str, millicores: int, docker: str) -> None:
    assert parse_cpu(text) == millicores
    assert docker_cpus(millicores) == docker


@pytest.mark.parametrize(
    ("text", "num_bytes", "mib"),
    [
        ("512Mi", 512 * 1024**2, 512),
        ("256Mi", 256 * 1024**2, 256),
        ("1Gi", 1024**3, 1024),
        ("2Gi", 2 * 1024**3, 2048),
        ("500M", 500 * 1000**2, 476),  # 476.8 MiB rounded down: never above the declared limit
        ("2G", 2 * 1000**3, 1907),
        ("256Gi", 256 * 1024**3, 256 * 1024),
    ],
)
def test_memory_formats_from_the_guide(text: str, num_bytes: int, mib: int) -> None:
    assert parse_memory(text) == num_bytes
    assert docker_memory_mib(num_bytes) == mib
    assert docker_memory_mib(num_bytes) * 1024**2 <= num_bytes


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0", "greater than 0"),
        ("0m", "greater than 0"),
        ("-1", "invalid CPU"),
        ("500x", "invalid CPU"),
        ("1.2345", "at most 3 decimals"),
        ("9m", "minimum of 10m"),
        ("0.001", "minimum of 10m"),
        ("65", "maximum of 64 cores"),
        ("64001m", "maximum of 64 cores"),
        ("", "invalid CPU"),
        ("1e3", "invalid CPU"),
    ],
)
def test_bad_cpu_names_accepted_formats(text: str, fragment: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_cpu(text)
    assert fragment in str(info.value)
    assert "500m" in str(info.value) or "maximum" in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0Mi", "greater than 0"),
        ("-512Mi", "invalid memory"),
        ("1.5Qi", "invalid memory"),
        ("512", "invalid memory"),
        ("1.5Gi", "invalid memory"),
        ("257Gi", "maximum of 256Gi"),
        ("1Mi", "minimum of 6Mi"),
    ],
)
def test_bad_memory_names_accepted_formats(text: str, fragment: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_memory(text)
    assert fragment in str(info.value)


@given(st.integers(min_value=10, max_value=MAX_CPU_MILLICORES))
def test_cpu_round_trip(millicores: int) -> None:
    assert parse_cpu(format_cpu(millicores)) == millicores
    assert parse_cpu(docker_cpus(millicores)) == millicores


@given(st.integers(min_value=7, max_value=256 * 1024), st.sampled_from(["Mi", "M"]))
def test_memory_round_trip(amount: int, unit: str) -> None:
    num_bytes = parse_memory(f"{amount}{unit}")
    assert parse_memory(format_memory(num_bytes)) == num_bytes
