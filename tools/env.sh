# Offline Pulumi environment for plexica-infra. Source it (bash or zsh):
#
#   . tools/env.sh
#
# It exports the settings of tools/pulumi.env (their one definition): .tools/bin
# (built by tools/build.sh) first on PATH, Pulumi's home with the provider plugins
# under .tools/, the state backend under .state/ (gitignored), no update checks and
# no downloads. It sets no passphrase: each stack's own settings take care of secrets.

if [ -n "${BASH_SOURCE:-}" ]; then
  _plexica_env_src="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
  _plexica_env_src="${(%):-%x}"
else
  _plexica_env_src="$0"
fi
PLEXICA_ROOT="$(cd "$(dirname "$_plexica_env_src")/.." && pwd)"
unset _plexica_env_src
export PLEXICA_ROOT

set -a
. "$PLEXICA_ROOT/tools/pulumi.env"
set +a

case ":$PATH:" in
  *":$PLEXICA_TOOLS_BIN:"*) ;;
  *) PATH="$PLEXICA_TOOLS_BIN:$PATH" ;;
esac
export PATH
mkdir -p "$PULUMI_HOME" "$PLEXICA_ROOT/.state/backend"
