# Makefile fragment for the offline Pulumi toolchain. In the main Makefile:
#
#   include tools/toolchain.mk
#
# Provides:
#   make toolchain          build .tools/bin/{pulumi, pulumi-language-python(+ -exec),
#                           pulumi-resource-docker, pulumi-resource-kubernetes}; skips what
#                           is already built at the pinned versions
#   make toolchain-force    rebuild everything
#   make toolchain-clean    remove .tools/ (binaries, stamps, generated sources)
# Variables (read-only use): TOOLCHAIN_ROOT, TOOLCHAIN_BIN, TOOLCHAIN_ENV, TOOLCHAIN_PULUMI,
# and TOOLCHAIN_SH, a shell prefix that runs a command in the offline environment, e.g.
#   $(TOOLCHAIN_SH) pulumi preview --stack dev

TOOLCHAIN_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
TOOLCHAIN_BIN := $(TOOLCHAIN_ROOT)/.tools/bin
TOOLCHAIN_ENV := $(TOOLCHAIN_ROOT)/tools/env.sh
TOOLCHAIN_PULUMI := $(TOOLCHAIN_BIN)/pulumi
TOOLCHAIN_SH := . $(TOOLCHAIN_ENV) &&

.PHONY: toolchain toolchain-force toolchain-clean

toolchain: ## Build the Pulumi CLI, language host and providers into .tools/bin (skips what is built)
	bash $(TOOLCHAIN_ROOT)/tools/build.sh

toolchain-force: ## Rebuild the whole toolchain
	bash $(TOOLCHAIN_ROOT)/tools/build.sh --force

toolchain-clean: ## Remove .tools/
	rm -rf $(TOOLCHAIN_ROOT)/.tools
