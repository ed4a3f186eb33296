# Offline Pulumi environment for plexica-infra. Source it (bash or zsh):
#
#   . tools/env.sh
#
# It puts .tools/bin (built by tools/build.sh) first on PATH, so the engine
# finds our language host and providers there ("ambient plugins") and never
# downloads anything, and keeps Pulumi's home and the state backend inside
# the repository under .state/ (gitignored). It sets no passphrase: each
# stack's own settings take care of secrets.

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

case ":$PATH:" in
  *":$PLEXICA_ROOT/.tools/bin:"*) ;;
  *) PATH="$PLEXICA_ROOT/.tools/bin:$PATH" ;;
esac
export PATH

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_HOME="$PLEXICA_ROOT/.state/pulumi-home"
export PULUMI_BACKEND_URL="file://$PLEXICA_ROOT/.state/backend"
mkdir -p "$PULUMI_HOME" "$PLEXICA_ROOT/.state/backend"
