"""CPU and memory quantities, parsed once into exact integers.

The guide ("Resource Limits") accepts CPU as millicores (`500m`), whole cores (`2`)
or fractional cores (`1.5`), and memory as `Mi`, `Gi`, `M` or `G`. Everything is
parsed to integers (millicores and bytes) so that no target ever rounds a float.
"""

from __future__ import annotations

import re
from decimal import Decimal

from plexica_infra.errors import QuantityError

__all__ = [
    "CPU_FORMATS",
    "MAX_CPU_MILLICORES",
    "MAX_MEMORY_BYTES",
    "MEMORY_FORMATS",
    "MIN_CPU_MILLICORES",
    "MIN_MEMORY_BYTES",
    "docker_cpus",
    "docker_memory_mib",
    "format_cpu",
    "format_memory",
    "parse_cpu",
    "parse_memory",
]

CPU_FORMATS = "millicores like '500m' or '2000m', whole cores like '1' or '2', or up to 3 decimals like '1.5'"
MEMORY_FORMATS = "an integer with a unit: '512Mi', '1Gi' (binary) or '500M', '2G' (decimal)"

#: 10m: Docker refuses fewer than 0.01 CPUs.
MIN_CPU_MILLICORES = 10
#: 64 cores: above this a single plugin container is a mistake, not a plan.
MAX_CPU_MILLICORES = 64_000
#: 256Gi: the largest memory limit a plugin may declare.
MAX_MEMORY_BYTES = 256 * 1024**3
#: 6Mi: Docker refuses smaller memory limits.
MIN_MEMORY_BYTES = 6 * 1024**2

# ASCII digits only, applied with `fullmatch` (no trailing newline, no full-width digits),
# and few enough digits that `int()` never meets Python's conversion limit.
_MILLI = re.compile(r"([0-9]{1,9})m")
_CORES = re.compile(r"([0-9]{1,6})(?:\.([0-9]{1,3}))?")
_MEMORY = re.compile(r"([0-9]{1,12})(Mi|Gi|M|G)")
_MEMORY_UNITS = {"Mi": 1024**2, "Gi": 1024**3, "M": 1000**2, "G": 1000**3}


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:76]}...{text[-1]}"


def parse_cpu(text: str) -> int:
    """Return the CPU quantity in millicores."""
    if not isinstance(text, str):
        raise QuantityError(f"CPU must be a string, got {type(text).__name__}; accepted: {CPU_FORMATS}")
    value = text
    if match := _MILLI.fullmatch(value):
        millicores = int(match.group(1))
    elif match := _CORES.fullmatch(value):
        whole, frac = match.group(1), match.group(2) or ""
        millicores = int(whole) * 1000 + int(frac.ljust(3, "0") or "0")
    else:
        hint = ""
        if re.fullmatch(r"[0-9]+\.[0-9]{4,}", value):
            hint = " (at most 3 decimals: 1 millicore is the smallest unit)"
        raise QuantityError(f"invalid CPU quantity {_shown(text)}{hint}; accepted: {CPU_FORMATS}")
    if millicores <= 0:
        raise QuantityError(f"CPU quantity {_shown(text)} must be greater than 0; accepted: {CPU_FORMATS}")
    if millicores < MIN_CPU_MILLICORES:
        raise QuantityError(
            f"CPU quantity {_shown(text)} is below the minimum of 10m (0.01 cores) that Docker accepts; "
            f"accepted: {CPU_FORMATS}"
        )
    if millicores > MAX_CPU_MILLICORES:
        raise QuantityError(f"CPU quantity {_shown(text)} exceeds the maximum of {MAX_CPU_MILLICORES // 1000} cores")
    return millicores


def parse_memory(text: str) -> int:
    """Return the memory quantity in bytes."""
    if not isinstance(text, str):
        raise QuantityError(f"memory must be a string, got {type(text).__name__}; accepted: {MEMORY_FORMATS}")
    match = _MEMORY.fullmatch(text)
    if not match:
        raise QuantityError(f"invalid memory quantity {_shown(text)}; accepted: {MEMORY_FORMATS}")
    amount = int(match.group(1)) * _MEMORY_UNITS[match.group(2)]
    if amount <= 0:
        raise QuantityError(f"memory quantity {_shown(text)} must be greater than 0; accepted: {MEMORY_FORMATS}")
    if amount < MIN_MEMORY_BYTES:
        raise QuantityError(f"memory quantity {_shown(text)} is below the minimum of 6Mi that Docker accepts")
    if amount > MAX_MEMORY_BYTES:
        raise QuantityError(f"memory quantity {_shown(text)} exceeds the maximum of 256Gi")
    return amount


def format_cpu(millicores: int) -> str:
    """Kubernetes form: whole cores as '2', anything else as millicores '500m'."""
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def format_memory(num_bytes: int) -> str:
    """Kubernetes form, exact: the largest unit that divides the value."""
    for unit, size in (("Gi", 1024**3), ("Mi", 1024**2), ("G", 1000**3), ("M", 1000**2)):
        if num_bytes % size == 0:
            return f"{num_bytes // size}{unit}"
    return str(num_bytes)


def docker_cpus(millicores: int) -> str:
    """Docker `--cpus` form: '500m' -> '0.5', '2' -> '2'."""
    text = format(Decimal(millicores) / 1000, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def docker_memory_mib(num_bytes: int) -> int:
    """Docker memory in MiB, rounded down so the enforced limit never exceeds the declared one."""
    return num_bytes // (1024**2)
