"""Hot-swap updates and rollback on failure, end to end (the guide's "Hot-Swap Updates"
and "Rollback on Failure").

Real processes over real sockets: the Pulumi engine (Automation API), our providers,
dockerd, the reference plugin image and the Core API emulator. While an update runs,
a background thread polls the emulator's gateway (`/api/plugins/crm/health/live`)
every 50 ms and records each answer's status, latency and `X-Plexica-Upstream`
(the registered endpoint the gateway used), so "zero downtime" and "the gateway
switched to the new container" are observed, not inferred.

The tests share one ephemeral stack (module-scoped `project`, the stack's default
health settings) and run in file order; each one reads the version it starts from
instead of assuming it. A container that never becomes healthy fails `pulumi up` once
Docker reports it `unhealthy`: after the 40 s start period and 3 failed 2 s checks.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from tests.e2e._project import EphemeralProject

pytestmark = pytest.mark.e2e

PLUGIN = "crm"
IMAGE_REPOSITORY = "registry.plexica.io/plugins/crm"
#: Gateway poller: one request every 50 ms, never more than this many or for longer.
POLL_INTERVAL_SECONDS = 0.05
POLL_MAX_REQUESTS = 3000
POLL_MAX_SECONDS = 240.0
#: After `up` returns, keep polling this long to see where the gateway routes now.
POLL_LINGER_SECONDS = 1.0
#: The transport's retry budget: 6 tries per Core API call (providers/_config.py).
RETRY_MAX_ATTEMPTS = 6


# Gateway poller ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One gateway answer (or the lack of one)."""

    at: float  # seconds since the poller started
    status: int | None
    upstream: str | None
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class GatewayPoller:
    """GET `url` every `interval` seconds on a background thread until stopped.

    Bounded twice: at most `max_requests` requests and `max_seconds` of polling.
    `exhausted` says the poller stopped on its own bound, i.e. it did not cover
    everything until `stop()`.
    """

    def __init__(
        self,
        url: str,
        *,
        interval: float = POLL_INTERVAL_SECONDS,
        max_requests: int = POLL_MAX_REQUESTS,
        max_seconds: float = POLL_MAX_SECONDS,
        timeout: float = 5.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        #: The admin token, so that answers name their upstream (the gateway hides it otherwise).
        self.headers = headers or {}
        self.interval = interval
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.samples: list[Sample] = []
        self.exhausted = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="gateway-poller", daemon=True)

    def __enter__(self) -> GatewayPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        started = time.monotonic()
        with httpx.Client(timeout=self.timeout, trust_env=False, headers=self.headers) as client:
            for n in range(self.max_requests):
                due = started + n * self.interval
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                if time.monotonic() - started > self.max_seconds:
                    break
                sent = time.monotonic()
                try:
                    response = client.get(self.url)
                    sample = Sample(
                        at=sent - started,
                        status=response.status_code,
                        upstream=response.headers.get("x-plexica-upstream"),
                        latency_ms=(time.monotonic() - sent) * 1000,
                        error=None if response.status_code == 200 else response.text[:300],
                    )
                except httpx.HTTPError as exc:
                    sample = Sample(sent - started, None, None, (time.monotonic() - sent) * 1000, repr(exc))
                with self._lock:
                    self.samples.append(sample)
        self.exhausted = not self._stop.is_set()

    def wait_for_samples(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` answers are in (bounded), so polling covers what comes next."""
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError(f"the gateway poller got {len(self.snapshot())} answers in {timeout:.0f} s")
            time.sleep(0.02)

    def linger(self, seconds: float) -> None:
        """Keep polling `seconds` longer, then stop."""
        time.sleep(seconds)
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5.0)

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)

    def failures(self) -> list[Sample]:
        return [s for s in self.snapshot() if not s.ok]

    def upstream_runs(self) -> list[str | None]:
        """The upstreams in the order the gateway used them, repeats collapsed."""
        runs: list[str | None] = []
        for sample in self.snapshot():
            if not runs or runs[-1] != sample.upstream:
                runs.append(sample.upstream)
        return runs

    def describe(self) -> str:
        samples = self.snapshot()
        failures = [s for s in samples if not s.ok]
        shown = "; ".join(f"t={s.at:.2f}s {s.status} {s.error}" for s in failures[:5])
        return f"{len(samples)} requests, {len(failures)} not 200 (first: {shown or 'none'})"


# Helpers ----------------------------------------------------------------------------------------


def only_container(project: EphemeralProject, plugin_id: str = PLUGIN) -> dict[str, Any]:
    """The plugin's single container (any state), failing with the list otherwise."""
    containers = project.containers(plugin_id, all_states=True)
    assert len(containers) == 1, [(c["Name"], c["State"]["Status"]) for c in containers]
    return containers[0]


def endpoint(container: dict[str, Any]) -> str:
    """`http://127.0.0.1:<published port>`: the URL the service registry holds for it."""
    port = next(var.split("=", 1)[1] for var in container["Config"]["Env"] if var.startswith("PORT="))
    for binding in container["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []:
        if binding["HostIp"] == "127.0.0.1":
            return f"http://127.0.0.1:{binding['HostPort']}"
    raise AssertionError(f"{container['Name']} publishes no 127.0.0.1 port for {port}/tcp")


def registered_endpoints(project: EphemeralProject, plugin_id: str = PLUGIN) -> list[str]:
    with project.emulator.client() as client:
        response = client.get("/api/v1/service-registry/services", params={"pluginId": plugin_id})
    response.raise_for_status()
    return [url for service in response.json()["services"] for url in service["endpoints"]]


def core_state(project: EphemeralProject, plugin_id: str = PLUGIN) -> tuple[str, str]:
    plugin = project.core_plugin(plugin_id)
    assert plugin is not None, f"the Core API does not know {plugin_id}"
    return plugin["state"], plugin["version"]


def next_patch(version: str) -> str:
    major, minor, patch = (int(part) for part in version.split("-")[0].split("+")[0].split("."))
    return f"{major}.{minor}.{patch + 1}"


def set_version(manifest: dict[str, Any], version: str) -> None:
    """The manifest's version and its image tag move together."""
    manifest["version"] = version
    manifest["runtime"]["image"] = f"{IMAGE_REPOSITORY}:{version}"


def assert_no_secrets(project: EphemeralProject, *texts: str) -> None:
    joined = "\n".join(texts)
    leaked = [key for key, value in project.secrets().items() if value in joined]
    assert leaked == [], f"secret values of {leaked} appear in the output"


def gateway_url(project: EphemeralProject, path: str = "health/live") -> str:
    return f"{project.emulator.url}/api/plugins/{PLUGIN}/{path}"


def up_while_polling(project: EphemeralProject, log: list[str]) -> tuple[auto.UpResult, GatewayPoller]:
    """`project.up()` with the gateway polled from before it starts until just after it ends."""
    with GatewayPoller(gateway_url(project), headers=project.admin_headers()) as poller:
        poller.wait_for_samples(3)
        result = project.up(log)
        poller.linger(POLL_LINGER_SECONDS)
    return result, poller


def failed_up_while_polling(project: EphemeralProject, log: list[str]) -> tuple[auto.CommandError, GatewayPoller]:
    """`project.up()`, which must fail, with the gateway polled throughout."""
    with GatewayPoller(gateway_url(project), headers=project.admin_headers()) as poller:
        poller.wait_for_samples(3)
        with pytest.raises(auto.CommandError) as info:
            project.up(log)
        poller.linger(POLL_LINGER_SECONDS)
    return info.value, poller


def assert_covered(poller: GatewayPoller) -> None:
    assert not poller.exhausted, (
        f"the gateway poller hit its bound ({POLL_MAX_REQUESTS} requests / {POLL_MAX_SECONDS:.0f} s) before "
        f"`up` finished, so availability over the whole update is not proven: {poller.describe()}"
    )


def current_faults(project: EphemeralProject) -> dict[str, Any]:
    with project.emulator.client() as client:
        response = client.get("/_emulator/faults")
    response.raise_for_status()
    faults: dict[str, Any] = response.json()
    return faults


def emulator_log_since(project: EphemeralProject, offset: int) -> str:
    return project.emulator.log_text()[offset:]


# Fixtures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployed:
    result: auto.UpResult
    seconds: float
    log: list[str]


@pytest.fixture(scope="module")
def deployed(project: EphemeralProject) -> Iterator[Deployed]:
    """The shipped plugins, up."""
    log: list[str] = []
    started = time.monotonic()
    result = project.up(log)
    yield Deployed(result, time.monotonic() - started, log)


# Tests ------------------------------------------------------------------------------------------


def test_initial_up_deploys_the_shipped_plugins(project: EphemeralProject, deployed: Deployed) -> None:
    assert deployed.result.summary.result == "succeeded"
    for plugin_id in ("crm", "analytics"):
        container = only_container(project, plugin_id)
        assert project.docker_health(container["Id"]) == "healthy"
        manifest = project.manifest(plugin_id)
        assert core_state(project, plugin_id) == ("ACTIVE", manifest["version"])
        assert registered_endpoints(project, plugin_id) == [endpoint(container)]
        response = project.gateway(plugin_id, as_admin=True)
        assert response.status_code == 200
        assert response.headers["x-plexica-upstream"] == endpoint(container)
    assert_no_secrets(project, *deployed.log)


def test_version_bump_hot_swaps_with_zero_downtime(project: EphemeralProject, deployed: Deployed) -> None:
    old = only_container(project)
    old_endpoint = endpoint(old)
    analytics = only_container(project, "analytics")["Id"]
    old_version = project.manifest(PLUGIN)["version"]
    new_version = next_patch(old_version)
    assert core_state(project) == ("ACTIVE", old_version)

    project.edit_manifest(PLUGIN, lambda m: set_version(m, new_version))
    log: list[str] = []
    result, poller = up_while_polling(project, log)

    assert result.summary.result == "succeeded"
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    new = only_container(project)
    assert new["Id"] != old["Id"]
    assert new["State"]["Running"] and project.docker_health(new["Id"]) == "healthy"
    assert new["Config"]["Labels"]["plexica.version"] == new_version
    assert f"PLUGIN_VERSION={new_version}" in new["Config"]["Env"]
    new_endpoint = endpoint(new)
    assert new_endpoint != old_endpoint
    # The gateway moved from the old container to the new one exactly once, mid-update.
    assert poller.upstream_runs() == [old_endpoint, new_endpoint], poller.upstream_runs()
    assert registered_endpoints(project) == [new_endpoint]
    assert core_state(project) == ("ACTIVE", new_version)
    # The new container serves the new version through the gateway.
    info = project.gateway(PLUGIN, "info")
    assert info.status_code == 200 and new_version in info.text, info.text
    # The old container is gone, not just stopped.
    assert project.docker.run("inspect", old["Id"], check=False).returncode != 0
    # The dependent plugin was not touched by its dependency's swap.
    assert only_container(project, "analytics")["Id"] == analytics
    assert core_state(project, "analytics")[0] == "ACTIVE"
    assert_no_secrets(project, *log)


def test_unhealthy_new_version_rolls_back_and_a_fixed_manifest_converges(
    project: EphemeralProject, deployed: Deployed
) -> None:
    old = only_container(project)
    old_endpoint = endpoint(old)
    old_version = project.manifest(PLUGIN)["version"]
    new_version = next_patch(old_version)
    assert core_state(project) == ("ACTIVE", old_version)

    def broken(manifest: dict[str, Any]) -> None:
        set_version(manifest, new_version)
        manifest["deployment"]["env"] = {"PLEXICA_SIMULATE": "unhealthy"}

    project.edit_manifest(PLUGIN, broken)
    log: list[str] = []
    error, poller = failed_up_while_polling(project, log)
    message = str(error)

    # The failure names crm's new container and why it failed.
    failed = re.search(r"container (plexica-plugin-crm-[0-9a-f]{7}): (became unhealthy|not healthy after)", message)
    assert failed, message[-3000:]
    name = failed.group(1)
    assert name != old["Name"].lstrip("/")
    # The failed container is gone within the same `up`: the provider removes a container whose
    # create failed, and the on_error hook ran for it and either removed it or found it gone.
    assert project.docker.run("inspect", name, check=False).returncode != 0
    output = "\n".join(log)
    hook = (
        rf"removed container {name} \([0-9a-f]{{12}}\) because its create failed",
        rf"the failed create left no container {name} behind",
    )
    assert any(re.search(pattern, output) for pattern in hook), output[-3000:]
    # The gateway answered 200 throughout, always from the old container.
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    assert poller.upstream_runs() == [old_endpoint], poller.upstream_runs()
    # The old container is untouched and healthy; nothing else of crm is left, running or not.
    after = only_container(project)
    assert after["Id"] == old["Id"]
    assert after["State"]["Running"] and project.docker_health(after["Id"]) == "healthy"
    leftovers = [
        c["Name"] for c in project.containers(all_states=True) if "PLEXICA_SIMULATE=unhealthy" in c["Config"]["Env"]
    ]
    assert leftovers == []
    assert registered_endpoints(project) == [old_endpoint]
    assert core_state(project) == ("ACTIVE", old_version)
    assert project.gateway(PLUGIN).status_code == 200
    assert_no_secrets(project, message, output)

    # Fix the manifest (same new version, no fault switch): the next `up` converges, still without downtime.
    project.edit_manifest(PLUGIN, lambda m: m["deployment"].pop("env"))
    log = []
    result, poller = up_while_polling(project, log)
    assert result.summary.result == "succeeded"
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    fixed = only_container(project)
    assert fixed["Id"] != old["Id"]
    assert project.docker_health(fixed["Id"]) == "healthy"
    assert poller.upstream_runs() == [old_endpoint, endpoint(fixed)], poller.upstream_runs()
    assert core_state(project) == ("ACTIVE", new_version)
    assert project.docker.run("inspect", old["Id"], check=False).returncode != 0
    assert_no_secrets(project, *log)


def test_crashing_new_version_rolls_back_and_reverting_the_manifest_changes_nothing(
    project: EphemeralProject, deployed: Deployed
) -> None:
    """The guide's third rollback trigger: the new container crashes right after it starts."""
    old = only_container(project)
    old_endpoint = endpoint(old)
    original = project.manifest(PLUGIN)
    old_version = original["version"]

    def crashing(manifest: dict[str, Any]) -> None:
        set_version(manifest, next_patch(old_version))
        manifest["deployment"]["env"] = {"PLEXICA_SIMULATE": "crash"}

    project.edit_manifest(PLUGIN, crashing)
    log: list[str] = []
    error, poller = failed_up_while_polling(project, log)
    message = str(error)
    failed = re.search(r"container (plexica-plugin-crm-[0-9a-f]{7}): ", message)
    assert failed, message[-3000:]
    assert project.docker.run("inspect", failed.group(1), check=False).returncode != 0
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    assert poller.upstream_runs() == [old_endpoint], poller.upstream_runs()
    assert only_container(project)["Id"] == old["Id"]
    assert core_state(project) == ("ACTIVE", old_version)
    assert_no_secrets(project, message, *log)

    # Back to the manifest that runs: nothing to replace, the old container stays.
    project.write_manifest(PLUGIN, original)
    result = project.up()
    assert result.summary.result == "succeeded"
    assert (result.summary.resource_changes or {}).get(auto.OpType.REPLACE, 0) == 0, result.summary.resource_changes
    assert only_container(project)["Id"] == old["Id"]
    assert core_state(project) == ("ACTIVE", old_version)
    assert project.gateway(PLUGIN).status_code == 200


def test_up_repairs_a_plugin_disabled_by_hand(project: EphemeralProject, deployed: Deployed) -> None:
    version = project.manifest(PLUGIN)["version"]
    container = only_container(project)["Id"]
    with project.emulator.client() as client:
        response = client.post(f"/api/v1/plugins/{PLUGIN}/disable")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "DISABLED"
    response = project.gateway(PLUGIN)
    assert response.status_code == 404 and response.json()["error"] == "not_found", response.text

    result = project.up()
    assert result.summary.result == "succeeded"
    assert (result.summary.resource_changes or {}).get(auto.OpType.UPDATE, 0) >= 1, result.summary.resource_changes
    assert core_state(project) == ("ACTIVE", version)
    assert project.gateway(PLUGIN).status_code == 200
    # Re-enabling needs no new container.
    assert only_container(project)["Id"] == container


def test_up_recreates_a_container_removed_by_hand(project: EphemeralProject, deployed: Deployed) -> None:
    version = project.manifest(PLUGIN)["version"]
    removed = only_container(project)
    project.docker.run("rm", "-f", removed["Id"])
    assert project.containers(PLUGIN, all_states=True) == []
    # The registry still names the removed container: the gateway cannot reach it.
    assert project.gateway(PLUGIN).status_code == 502

    result = project.up()
    assert result.summary.result == "succeeded"
    recreated = only_container(project)
    assert recreated["Id"] != removed["Id"]
    assert project.docker_health(recreated["Id"]) == "healthy"
    assert registered_endpoints(project) == [endpoint(recreated)]
    assert core_state(project) == ("ACTIVE", version)
    response = project.gateway(PLUGIN, as_admin=True)
    assert response.status_code == 200
    assert response.headers["x-plexica-upstream"] == endpoint(recreated)


def test_update_retries_core_api_503s_within_its_budget(project: EphemeralProject, deployed: Deployed) -> None:
    # The most a call can meet and still succeed: every try but the last fails.
    failures = RETRY_MAX_ATTEMPTS - 1
    offset = len(project.emulator.log_text())
    project.edit_manifest(PLUGIN, lambda m: m["deployment"].setdefault("env", {}).update({"FEATURE_FLAGS": "a"}))
    path = f"/api/v1/plugins/{PLUGIN}/update"
    project.emulator.set_faults(fail_next=failures, status=503, path_prefix=path)
    try:
        result = project.up()
        left = current_faults(project)
    finally:
        project.emulator.clear_faults()
    assert result.summary.result == "succeeded"
    # Every injected 503 was met by the update call, and it was retried past them.
    assert left["fail_next"] == 0
    injected = emulator_log_since(project, offset).count(f"fault: answering POST {path} with 503")
    assert injected == failures
    plugin = project.core_plugin(PLUGIN)
    assert plugin is not None and plugin["state"] == "ACTIVE"
    assert plugin["manifest"]["deployment"]["env"] == {"FEATURE_FLAGS": "a"}
    assert "FEATURE_FLAGS=a" in only_container(project)["Config"]["Env"]


def test_update_gives_up_on_a_failing_core_api_and_the_next_up_converges(
    project: EphemeralProject, deployed: Deployed
) -> None:
    version = project.manifest(PLUGIN)["version"]
    path = f"/api/v1/plugins/{PLUGIN}/update"
    project.edit_manifest(PLUGIN, lambda m: m["deployment"]["env"].update({"FEATURE_FLAGS": "b"}))
    project.emulator.set_faults(fail_next=200, status=503, path_prefix=path)
    log: list[str] = []
    try:
        with pytest.raises(auto.CommandError) as info:
            project.up(log)
    finally:
        project.emulator.clear_faults()
    message = str(info.value)
    assert re.search(
        rf"crm: update: Core API answered 503: fault injected by the emulator: 503 for {re.escape(path)} "
        rf"\(gave up after {RETRY_MAX_ATTEMPTS} attempt\(s\) in [0-9.]+ s\)",
        message,
    ), message[-3000:]
    # Our provider errors reach the user as their one line, without the host's traceback.
    assert "Traceback" not in message, message[-3000:]
    assert_no_secrets(project, message, *log)
    # The Core API kept the previous manifest and kept routing.
    plugin = project.core_plugin(PLUGIN)
    assert plugin is not None and (plugin["state"], plugin["version"]) == ("ACTIVE", version)
    assert plugin["manifest"]["deployment"]["env"] == {"FEATURE_FLAGS": "a"}
    assert project.gateway(PLUGIN).status_code == 200

    result = project.up()
    assert result.summary.result == "succeeded"
    plugin = project.core_plugin(PLUGIN)
    assert plugin is not None and plugin["state"] == "ACTIVE"
    assert plugin["manifest"]["deployment"]["env"] == {"FEATURE_FLAGS": "b"}
    container = only_container(project)
    assert "FEATURE_FLAGS=b" in container["Config"]["Env"]
    assert registered_endpoints(project) == [endpoint(container)]
    assert project.gateway(PLUGIN).status_code == 200


def test_refresh_against_an_unavailable_core_api_fails_cleanly_and_changes_nothing(
    project: EphemeralProject, deployed: Deployed
) -> None:
    containers = sorted(c["Id"] for c in project.containers(all_states=True))
    before = project.core_plugin(PLUGIN)
    project.emulator.set_faults(fail_next=200, status=503, path_prefix="/api/v1/")
    try:
        with pytest.raises(auto.CommandError) as info:
            project.up()
    finally:
        project.emulator.clear_faults()
    message = str(info.value)
    # Every Core API read of the refresh gave up after the retry budget, each with one clear line.
    assert "Traceback" not in message, message[-3000:]
    for plugin_id, step, path in (
        ("crm", "read", "/api/v1/plugins/crm"),
        ("analytics", "read", "/api/v1/plugins/analytics"),
        ("crm", "read service", "/api/v1/service-registry/services"),
        ("analytics", "read service", "/api/v1/service-registry/services"),
    ):
        line = (
            rf"{plugin_id}: {step}: Core API answered 503: fault injected by the emulator: 503 for {re.escape(path)} "
            rf"\(gave up after {RETRY_MAX_ATTEMPTS} attempt\(s\) in [0-9.]+ s\)"
        )
        assert re.search(line, message), (line, message[-3000:])
    assert_no_secrets(project, message)
    assert sorted(c["Id"] for c in project.containers(all_states=True)) == containers
    assert project.core_plugin(PLUGIN) == before

    result = project.up()
    assert result.summary.result == "succeeded"
    assert core_state(project)[0] == "ACTIVE"
    assert sorted(c["Id"] for c in project.containers(all_states=True)) == containers
