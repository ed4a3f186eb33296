"""Which image a plugin container runs, and how the engine gets it.

`images: pull` makes a `RemoteImage` (pulled by reference, kept locally on destroy
so another stack sharing the engine keeps its image). `images: local` pulls
nothing: no registry is reachable on the dev and local machines. The image must
already be in the engine, and the `getRemoteImage` data source (the provider's
`docker_image` data source) resolves its local id. That lookup only lists local
images; it never pulls, and it fails during `pulumi preview` when the image is
missing. The container is then created from the image id, so rebuilding the image
under the same tag replaces the container on the next `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plexica_infra.config import StackConfig
from plexica_infra.manifest import PluginManifest
from plexica_infra.placement import plugin_image

__all__ = ["ImageSpec", "image_spec", "plugin_image"]


@dataclass(frozen=True)
class ImageSpec:
    #: Full reference, with the stack's registry when it sets one.
    reference: str
    #: 'pull': a RemoteImage pulls it. 'local': it must already be in the engine.
    source: Literal["pull", "local"]
    #: RemoteImage.keep_locally: destroying the stack never deletes an image.
    keep_locally: bool = True


def image_spec(manifest: PluginManifest, stack: StackConfig) -> ImageSpec:
    return ImageSpec(reference=plugin_image(manifest, stack), source=stack.docker.images)
