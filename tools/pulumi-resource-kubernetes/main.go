// Command pulumi-resource-kubernetes is our entry point for the Pulumi
// Kubernetes provider, built from the provider module in the Go module cache.
//
// The upstream command embeds two files that upstream generates at release
// time and does not publish in the module zip. tools/build.sh generates them
// (schema.json with its version set, and a compact terraform mapping) next to
// a copy of this file under .tools/src/, and builds that copy.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schemaJSON []byte

//go:embed terraform-mapping-embed.json
var terraformMappingJSON []byte

func main() {
	provider.Serve("kubernetes", version.Version, schemaJSON, terraformMappingJSON)
}
