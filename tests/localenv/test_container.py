"""The reference plugin image in real containers on a user network (real dockerd)."""

from __future__ import annotations

import time

import httpx

from plexica_infra.localenv import SOURCE_HASH_LABEL, source_hash
from tests._docker import HARDENED_RUN_ARGS, PLUGIN_PORT, DockerCLI, DockerResources, wait_http


def test_image_config(docker: DockerCLI, plugin_image: str) -> None:
    image = docker.inspect(plugin_image, kind="image")[0]
    config = image["Config"]
    assert config["User"] == "1001:1001"
    assert config["Entrypoint"] == ["/plugin"]
    assert f"{PLUGIN_PORT}/tcp" in config["ExposedPorts"]
    assert config["Labels"][SOURCE_HASH_LABEL] == source_hash()
    assert config["Healthcheck"]["Test"] == ["CMD", "/plugin", "healthcheck"]
    assert image["Size"] < 20_000_000  # one static binary, nothing else


def test_hardened_container_healthy_and_reachable_by_name(
    docker: DockerCLI, docker_resources: DockerResources, plugin_image: str
) -> None:
    network = docker_resources.network()
    crm = docker_resources.container(
        "crm",
        plugin_image,
        "--network", network,
        *HARDENED_RUN_ARGS,
        "--health-interval", "1s",
        "--health-timeout", "5s",
        env={"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0", "JWT_SECRET": "container-secret-1d2c"},
    )  # fmt: skip
    docker.wait_health(crm, "healthy", timeout=90)

    port = docker.published_port(crm)
    live = wait_http(f"http://127.0.0.1:{port}/health/live", timeout=10)
    assert live.json()["status"] == "ok"
    ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5, trust_env=False)
    assert ready.status_code == 200 and ready.json()["checks"] == {"tmp": "ok"}  # /tmp tmpfs on a read-only root
    items = httpx.get(f"http://127.0.0.1:{port}/api/plugins/crm/items", timeout=5, trust_env=False).json()
    assert (items["pluginId"], items["version"]) == ("crm", "1.2.0")

    info = docker.inspect(crm)[0]
    host_config = info["HostConfig"]
    assert host_config["Memory"] == 512 * 1024 * 1024
    assert host_config["NanoCpus"] == 500_000_000
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host_config["SecurityOpt"]
    assert host_config["PortBindings"][f"{PLUGIN_PORT}/tcp"][0]["HostIp"] == "127.0.0.1"
    assert info["Config"]["User"] == "1001:1001"
    assert info["Config"]["Healthcheck"]["Test"][0] == "CMD-SHELL"  # run by the image's minimal /bin/sh
    uids = docker.run("top", crm, "-o", "uid,pid,args").stdout.splitlines()[1:]
    assert uids and all(line.split()[0] == "1001" for line in uids), uids
    assert "container-secret-1d2c" not in docker.logs(crm)

    # a second plugin on the same network depends on the first one by container name
    analytics = docker_resources.container(
        "analytics",
        plugin_image,
        "--network", network,
        *HARDENED_RUN_ARGS,
        "--health-interval", "1s",
        env={
            "PLUGIN_ID": "analytics",
            "PLUGIN_VERSION": "1.0.0",
            "READY_DEPENDENCIES": f"crm=http://{crm}:{PLUGIN_PORT}/health/live",
        },
    )  # fmt: skip
    docker.wait_health(analytics, "healthy", timeout=90)
    analytics_url = f"http://127.0.0.1:{docker.published_port(analytics)}"
    ready = wait_http(analytics_url + "/health/ready", timeout=20)
    assert ready.json()["checks"] == {"crm": "ok", "tmp": "ok"}

    # the dependency stops: readiness of the dependent plugin turns 503, liveness stays 200
    started = time.monotonic()
    docker.run("stop", "-t", "10", crm)
    assert time.monotonic() - started < 10, "SIGTERM should stop the plugin well before the kill timeout"
    assert docker.inspect(crm)[0]["State"]["ExitCode"] == 0
    assert "shutdown complete" in docker.logs(crm)
    not_ready = wait_http(analytics_url + "/health/ready", status=503, timeout=20)
    assert not_ready.json()["checks"]["crm"] == "error"
    assert httpx.get(analytics_url + "/health/live", timeout=5, trust_env=False).status_code == 200


def test_simulated_fault_makes_container_unhealthy(
    docker: DockerCLI, docker_resources: DockerResources, plugin_image: str
) -> None:
    network = docker_resources.network()  # never the default bridge: see default_bridge_present()
    broken = docker_resources.container(
        "broken",
        plugin_image,
        "--network", network,
        *HARDENED_RUN_ARGS,
        "--health-interval", "1s",
        "--health-retries", "2",
        "--health-start-period", "1s",  # the image's 40 s start period would mask failures
        env={"PLUGIN_ID": "crm", "PLEXICA_SIMULATE": "unhealthy"},
    )  # fmt: skip
    docker.wait_health(broken, "unhealthy", timeout=60)
    crashing = docker_resources.container(
        "crash", plugin_image, "--network", network, "--read-only", env={"PLEXICA_SIMULATE": "crash"}
    )
    deadline = time.monotonic() + 30
    while docker.inspect(crashing)[0]["State"]["Running"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert docker.inspect(crashing)[0]["State"]["ExitCode"] == 1
