"""`plexica:docker` settings validation: each bad value names what is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from plexica_infra.config import stack_config_from_mapping
from plexica_infra.errors import StackConfigError

BASE = {
    "target": "docker",
    "coreApiUrl": "http://core-api:3000",
    "kafkaBrokers": "redpanda:29092",
    "coreApiInsecurePlaintextHttp": True,
}


def _docker(**settings: Any) -> Any:
    return stack_config_from_mapping({**BASE, "docker": settings}, source="Pulumi.dev.yaml").docker


def test_aliases_from_the_stack_file() -> None:
    settings = _docker(
        host="unix:///work/main/.state/docker/docker.sock",
        network="plexica-net",
        externalNetwork=True,
        bindAddress="0.0.0.0",
        allowPublicBind=True,
        images="local",
        healthcheckCommand=["CMD", "/plugin", "healthcheck", "{url}"],
        healthTimeoutSeconds=60,
        stopGraceSeconds=10,
    )
    assert settings.host == "unix:///work/main/.state/docker/docker.sock"
    assert settings.network == "plexica-net"
    assert settings.external_network is True
    assert settings.bind_address == "0.0.0.0"
    assert settings.images == "local"
    assert settings.healthcheck_command == ["CMD", "/plugin", "healthcheck", "{url}"]
    assert settings.health_timeout_seconds == 60
    assert settings.stop_grace_seconds == 10


def test_ipv6_bind_address_is_normalised() -> None:
    assert _docker(bindAddress="0:0:0:0:0:0:0:1").bind_address == "::1"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bindAddress": "localhost"}, "plexica:docker.bindAddress: 'localhost' is not an IP address; use 127.0.0.1"),
        ({"healthcheckCommand": ["wget", "{url}"]}, "is not a Docker healthcheck test; start with 'CMD'"),
        ({"healthcheckCommand": ["CMD"]}, "is not a Docker healthcheck test"),
        ({"images": "build"}, "plexica:docker.images: Input should be 'pull' or 'local'"),
        ({"stopGraceSeconds": -1}, "plexica:docker.stopGraceSeconds: Input should be greater than or equal to 0"),
        ({"healthTimeout": 60}, "plexica:docker.healthTimeout: unknown setting"),
    ],
)
def test_bad_settings_say_what_is_accepted(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(StackConfigError) as exc:
        _docker(**settings)
    assert message in str(exc.value)
