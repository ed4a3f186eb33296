"""Our errors reach the engine as their one line: the real dynamic provider host, over gRPC.

The engine runs `python -m pulumi.dynamic` for our providers and prints whatever a
failed call answers. A `PlexicaError` must arrive as its message without a traceback;
anything else (a bug) keeps its traceback.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf.struct_pb2 import Struct  # type: ignore[import-untyped]
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc

from plexica_infra.providers import HealthGateProvider, PluginRegistrationProvider
from tests.providers._support import FAST

#: Bounded waits for the host to start and to answer one call.
START_TIMEOUT_SECONDS = 60
CALL_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def host() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())  # the host prints its port once it listens
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_SECONDS)
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=START_TIMEOUT_SECONDS)


def _create(host: provider_pb2_grpc.ResourceProviderStub, provider: Any, props: dict[str, Any]) -> str:
    properties = Struct()  # plain JSON values: what the engine sends for them
    properties.update({**props, "__provider": serialize_provider(provider)})
    with pytest.raises(grpc.RpcError) as failure:
        host.Create(
            proto.CreateRequest(urn="urn:pulumi:test::p::t::x", properties=properties), timeout=CALL_TIMEOUT_SECONDS
        )
    details = failure.value.details()
    assert isinstance(details, str)
    return details


def test_our_errors_arrive_as_their_one_line(host: provider_pb2_grpc.ResourceProviderStub) -> None:
    details = _create(host, HealthGateProvider(), {"plugin_id": "Not_A_Label", "base_urls": ["http://127.0.0.1:9"]})
    assert "Traceback" not in details and "The above exception" not in details
    assert details.strip().count("\n") == 0, details
    assert "Not_A_Label: health gate inputs: " in details and "DNS-1123 label" in details


def test_a_core_api_error_with_a_cause_arrives_without_its_chain(
    host: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    props = {
        "plugin_id": "crm",
        "manifest": {"name": "CRM"},
        "version": "1.0.0",
        "core_api_url": "http://127.0.0.1:9",  # nothing listens on the discard port
        "token": "t",
        "dialect": "guide",
    }
    details = _create(host, PluginRegistrationProvider(FAST), props)
    assert "Traceback" not in details and "The above exception" not in details, details
    assert details.strip().count("\n") == 0, details
    assert "crm: create: " in details


class BuggyGate(HealthGateProvider):
    """A provider with a bug: the host loads it by reference from this module."""

    def create(self, props: dict[str, Any]) -> Any:
        raise KeyError("a bug in create")


def test_a_bug_keeps_its_traceback(host: provider_pb2_grpc.ResourceProviderStub) -> None:
    details = _create(host, BuggyGate(), {"plugin_id": "crm", "base_urls": ["http://127.0.0.1:9"]})
    assert "KeyError: 'a bug in create'" in details
    assert "Traceback (most recent call last):" in details and 'raise KeyError("a bug in create")' in details
