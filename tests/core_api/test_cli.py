"""`python -m plexica_infra.core_api`: arguments, token sources, one-line errors, logs."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests._emulator import REPO, Emulator, emulator_command, emulator_env, manifest, new_token, unique_id

RUN_TIMEOUT_SECONDS = 60


def _run(args: list[str], *, token: str | None = "t0ken") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        emulator_command(":memory:", extra_args=args)[:3] + args,
        cwd=REPO,
        env=emulator_env(token),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "token", "code", "message"),
    [
        (["--db", ":memory:"], None, 2, "no admin token: set PLEXICA_CORE_API_TOKEN (or pass --token)"),
        (["--db", ":memory:", "--token", " "], None, 2, "the admin token is empty"),
        (["--db", ":memory:", "--token", "a b"], None, 2, "the admin token must not contain whitespace"),
        ([], "t", 2, "Missing option '--db'"),
        (["--db", ":memory:", "--port", "70000"], "t", 2, "70000 is not in 0-65535"),
        (["--db", ":memory:", "--port", "http"], "t", 2, "'http' is not a port number"),
        (["--db", "/no/such/dir/core.db"], "t", 2, "directory /no/such/dir does not exist"),
        (["--db", "/tmp"], "t", 2, "--db /tmp: is a directory"),
        (["--db", ":memory:", "--verbose"], "t", 2, "No such option: --verbose"),
        (["--db", ":memory:", "--dialect", "v2"], "t", 2, "'v2' is not one of 'guide', 'plexica-v1'"),
        (["--db", ":memory:", "--token-ttl", "0"], "t", 2, "0 is not in 1-86400 seconds"),
        (["--db", ":memory:", "--max-body-bytes", "lots"], "t", 2, "'lots' is not a whole number of bytes"),
        (["--db", ":memory:", "--log-level", "loud"], "t", 2, "--log-level"),
        (["--db", ":memory:", "--host", "no.such.host.invalid"], "t", 1, "cannot resolve --host"),
    ],
)
def test_bad_arguments_print_one_line_and_no_traceback(
    args: list[str], token: str | None, code: int, message: str
) -> None:
    result = _run(args, token=token)
    assert result.returncode == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("plexica-core-api: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_help_lists_every_option_with_its_default() -> None:
    result = _run(["--help"])
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for option in (
        "--db",
        "--host",
        "--also-listen",
        "--port",
        "--token",
        "--dialect",
        "--client-id",
        "--token-ttl",
        "--allow-upstream",
        "--max-body-bytes",
        "--log-level",
        "--no-access-log",
    ):
        assert option in text
    for default in ("127.0.0.1", "3000", "guide", "300", "10485760", "info"):
        assert f"[default: {default}]" in text


def test_a_taken_port_is_a_one_line_error(busy_port: int) -> None:
    result = _run(["--db", ":memory:", "--port", str(busy_port)])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"plexica-core-api: error: cannot listen on 127.0.0.1:{busy_port}: Address already in use"
    ]


def test_a_file_that_is_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    garbage = tmp_path / "core.db"
    garbage.write_bytes(b"definitely not sqlite" * 100)
    result = _run(["--db", str(garbage)])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open the database" in lines[0], result.stderr


def test_the_token_flag_works_and_warns_about_ps(tmp_path: Path, emulator_factory: Callable[..., Emulator]) -> None:
    token = new_token()
    instance = emulator_factory(token="unused-env-token", extra_args=["--token", token])
    with instance.client(token=token) as client:
        assert client.get("/api/v1/plugins").status_code == 200, "the flag wins over the environment"
    with instance.client(token="unused-env-token") as client:
        assert client.get("/api/v1/plugins").status_code == 403
    assert "--token is visible in the process list; prefer PLEXICA_CORE_API_TOKEN" in instance.log_text()


def test_logs_never_contain_the_token(emulator_factory: Callable[..., Emulator]) -> None:
    instance = emulator_factory()
    plugin_id = unique_id()
    with instance.client() as client:
        client.post("/api/v1/plugins", json=manifest(plugin_id))
        client.post(f"/api/v1/plugins/{plugin_id}/install")  # fails: no endpoints (logged)
        client.post(f"/api/v1/plugins/{plugin_id}/enable")
        client.post("/_emulator/faults", json={"fail_next": 1})
        client.get("/api/v1/plugins")
        client.get(f"/api/v1/plugins?token={plugin_id}")
    with instance.client(token=instance.token[:-1]) as wrong:
        wrong.get("/api/v1/plugins")
    httpx.get(f"{instance.url}/api/plugins/{plugin_id}/x", headers={"Authorization": f"Bearer {instance.token}"})
    instance.stop()
    log = instance.log_text()
    assert "install of" in log and "403" in log, "the log did record these requests"
    assert instance.token not in log
    assert instance.token[:-1] not in log


def test_port_zero_prints_the_chosen_url(emulator_factory: Callable[..., Emulator]) -> None:
    instance = emulator_factory()
    assert instance.url.startswith("http://127.0.0.1:") and instance.port > 0
    assert f"listening on {instance.url}" in instance.log_text()
