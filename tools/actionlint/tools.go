//go:build tools

// Package tools pins actionlint, the GitHub Actions workflow linter that `make test`
// runs on .github/workflows/. Built by tools/build.sh from the module cache.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
