"""The loader's parts, one job each; callers import from `plexica_infra.loader`.

* `problems`: `Problem`, one `<file>: <json-pointer>: <message>` line, and how paths print.
* `manifest_file`: one `plugin.json` read, parsed and validated into a `PluginManifest`.
* `cross_checks`: the checks across manifests (ids, dependencies, cycles).
* `plugin_set`: `LoadedPlugin` and `dependency_order`, the one order every target deploys in.
* `stack_checks`: what a stack's config says about the plugins.
"""
