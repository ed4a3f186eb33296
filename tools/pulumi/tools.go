//go:build tools

// Package tools pins the Pulumi CLI module so `go build` can build it from
// the module cache. Nothing upstream is vendored into this repository.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
