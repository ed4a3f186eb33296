"""End to end, without a cluster: the real Pulumi engine and Kubernetes provider run
the Kubernetes target in `renderYamlTo` mode on a throwaway stack (file backend in a
temporary directory), and the manifests the provider writes are checked.

Needs the offline toolchain in .tools/bin (tools/build.sh, part of `make setup`).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from plexica_infra.k8s.objects import render_objects
from plexica_infra.localenv.toolchain import pulumi_env
from tests.k8s._support import KUBERNETES_VERSION, PLUGINS, REPO, SECRET_VALUES, prod_stack, shipped_plugins

pytestmark = pytest.mark.e2e

TOOLS = REPO / ".tools" / "bin"
SECRET_KEYS = {
    "core_api_token": "coreApiToken",
    "database_url": "databaseUrl",
    "redis_url": "redisUrl",
    "jwt_secret": "jwtSecret",
}


class Stack:
    def __init__(self, root: Path) -> None:
        if not (TOOLS / "pulumi").exists() or not (TOOLS / "pulumi-resource-kubernetes").exists():
            pytest.fail(f"the Pulumi toolchain is not built in {TOOLS}; run tools/build.sh (part of `make setup`)")
        self.root = root
        self.project = root / "project"
        self.rendered = root / "rendered"
        self.project.mkdir()
        (self.project / "Pulumi.yaml").write_text(
            yaml.safe_dump(
                {
                    "name": "plexica-infra",
                    "runtime": {
                        "name": "python",
                        "options": {"toolchain": "pip", "virtualenv": str(REPO / ".venv")},
                    },
                }
            )
        )
        shutil.copy(Path(__file__).with_name("_render_program.py"), self.project / "__main__.py")
        # The project's one Pulumi environment (tools/pulumi.env: its plugin cache holds the
        # Kubernetes provider) with a throwaway backend of this test's own.
        self.env = {
            **pulumi_env(backend=root / "state", passphrase="throwaway-test-passphrase"),
            "PLEXICA_PLUGINS_DIR": str(PLUGINS),
        }
        self.output = ""

    def pulumi(self, *args: str) -> str:
        completed = subprocess.run(
            [str(TOOLS / "pulumi"), *args, "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        self.output += completed.stdout + completed.stderr
        assert completed.returncode == 0, f"pulumi {' '.join(args)}:\n{completed.stdout}\n{completed.stderr}"
        return completed.stdout

    def init(self, **kubernetes: Any) -> None:
        self.pulumi("stack", "init", "prod")
        stack_file = self.project / "Pulumi.prod.yaml"
        document = yaml.safe_load(stack_file.read_text()) or {}
        config = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
        config["plexica:kubernetes"] = {
            **config["plexica:kubernetes"],
            "renderYamlTo": str(self.rendered),
            **kubernetes,
        }
        document["config"] = config
        stack_file.write_text(yaml.safe_dump(document))
        pairs = [
            arg for key, value in SECRET_VALUES.items() for arg in ("--secret", f"plexica:{SECRET_KEYS[key]}={value}")
        ]
        self.pulumi("config", "set-all", *pairs)

    def rendered_objects(self) -> dict[tuple[str, str], dict[str, Any]]:
        objects = {}
        for path in sorted(self.rendered.rglob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text()):
                if document:
                    objects[(document["kind"], document["metadata"]["name"])] = document
        return objects

    def state(self) -> str:
        return self.pulumi("stack", "export")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    stack = Stack(tmp_path_factory.mktemp("pulumi-render"))
    stack.init()
    stack.pulumi("up", "--yes")
    return stack


def test_provider_renders_exactly_the_built_objects(rendered: Stack) -> None:
    expected = {
        (obj["kind"], obj["metadata"]["name"]): obj
        for obj in render_objects([p.manifest for p in shipped_plugins()], prod_stack(renderYamlTo="x"))
    }
    assert rendered.rendered_objects() == expected


def test_provider_output_is_valid_kubernetes(rendered: Stack) -> None:
    objects = rendered.rendered_objects()
    assert len(objects) == 14
    for obj in objects.values():
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_stack_outputs(rendered: Stack) -> None:
    outputs = json.loads(rendered.pulumi("stack", "output", "--json"))
    assert outputs["crm"] == {
        "service_dns": "plugin-crm.plexica.svc.cluster.local",
        "port": 3100,
        "deployment_name": "plugin-crm",
        "instance_urls": ["http://plugin-crm.plexica.svc.cluster.local:3100"],
        "health_urls": ["http://plugin-crm.plexica.svc.cluster.local:3100/health/ready"],
    }
    assert outputs["analytics"]["instance_urls"] == ["http://plugin-analytics.plexica.svc.cluster.local:3200"]


def test_no_secret_in_output_state_or_files(rendered: Stack) -> None:
    assert "renderYamlTo is set: the shared Secrets" in rendered.output
    files = "".join(path.read_text() for path in rendered.rendered.rglob("*") if path.is_file())
    state = rendered.state()
    for value in SECRET_VALUES.values():
        assert value not in rendered.output
        assert value not in state
        assert value not in files


def test_opted_in_secrets_stay_encrypted_in_state_and_hidden_in_output(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    stack = Stack(tmp_path_factory.mktemp("pulumi-render-secrets"))
    stack.init(renderSecrets=True)
    stack.pulumi("up", "--yes", "--diff")
    secrets = {name: obj for (kind, name), obj in stack.rendered_objects().items() if kind == "Secret"}
    assert sorted(secrets) == ["plexica-database", "plexica-redis", "plexica-secrets"]
    # What renderSecrets' default protects against: the files hold the values (base64 is
    # an encoding, not encryption).
    encoded = secrets["plexica-secrets"]["data"]["jwt-secret"]
    assert base64.b64decode(encoded).decode() == SECRET_VALUES["jwt_secret"]
    state = stack.state()
    assert json.loads(state)["deployment"]["secrets_providers"]["type"] == "passphrase"
    for key in ("database_url", "redis_url", "jwt_secret"):
        assert SECRET_VALUES[key] not in state
        assert SECRET_VALUES[key] not in stack.output
    assert "[secret]" in stack.output
