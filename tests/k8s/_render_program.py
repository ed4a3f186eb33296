"""A throwaway Pulumi program for the end-to-end render test (copied as __main__.py).

It stands in for the project's thin __main__.py: read the stack, load the plugins,
deploy to Kubernetes, export each plugin component's outputs.
"""

import os
from pathlib import Path

import pulumi

from plexica_infra.config import read_stack_config
from plexica_infra.k8s.program import deploy_kubernetes
from plexica_infra.loader import require_plugins

stack, secrets = read_stack_config()
deployed = deploy_kubernetes(require_plugins(Path(os.environ["PLEXICA_PLUGINS_DIR"])), stack, secrets)
for plugin_id, component in deployed.items():
    pulumi.export(
        plugin_id,
        {
            "service_dns": component.service_dns,
            "port": component.port,
            "deployment_name": component.deployment_name,
            "instance_urls": component.instance_urls,
            "health_urls": component.health_urls,
        },
    )
