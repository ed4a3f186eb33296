"""The Docker target (`target: docker`, the dev and local stacks).

Each plugin becomes one `plexica:docker:Plugin` component of pulumi-docker
Containers, next to one `plexica:docker:Platform` (the Docker provider and the
plugin network). `plexica_infra.target.DockerTarget` deploys it through
`program.deploy_docker`; its settings model is `plexica_infra.config.DockerSettings`.

Modules, in data-flow order:

* `labels`, `env`, `image`, `network`, `container`: pure spec builders, from
  (manifest, stack settings) to plain data; no Pulumi.
* `platform`, `plugin`: the components, which only create resources from those specs.
* `rollback`, `_engine`: the error hook that removes a container that failed its
  health check (see `container`'s docstring for the replacement and rollback design).
* `sweep`: removes this stack's containers that no Pulumi state owns (a killed `up`).
* `program`: `deploy_docker`, every plugin in the loader's dependency order.
"""

__all__: list[str] = []
