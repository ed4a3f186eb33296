"""The Docker target (`target: docker`, the dev and local stacks).

Each plugin becomes one `plexica:docker:Plugin` component of pulumi-docker
Containers, next to one `plexica:docker:Platform` (the Docker provider and the
plugin network). The entry point is `plexica_infra.docker.program.deploy_docker`.

Modules, in data-flow order:

* `labels`, `env`, `image`, `network`, `container`: pure spec builders, from
  (manifest, stack settings) to plain data; no Pulumi.
* `platform`, `plugin`: the components, which only create resources from those specs.
* `rollback`, `_engine`: the error hook that removes a container that failed its
  health check (see `container`'s docstring for the replacement and rollback design).
* `program`: `deploy_docker`, called by `__main__.py`.

This package's `__init__` imports nothing: `plexica_infra.config` imports
`docker.settings`, and the components import `config`.
"""

__all__: list[str] = []
