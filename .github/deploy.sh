#!/usr/bin/env bash
# `pulumi up` of one committed stack ($STACK) from CI, with the policy pack. Secrets come from
# the environment and reach Pulumi on standard input only: never argv, never the log.
set -euo pipefail
: "${STACK:?set STACK (dev or prod)}"
: "${PULUMI_BACKEND_URL:?set the PULUMI_BACKEND_URL variable of the GitHub environment}"
: "${PULUMI_CONFIG_PASSPHRASE:?set the PULUMI_CONFIG_PASSPHRASE secret of the GitHub environment}"
export PATH="$PWD/.tools/bin:$PWD/.venv/bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_HOME="$PWD/.state/pulumi-home"
mkdir -p "$PULUMI_HOME"

if [[ -n "${KUBECONFIG_DATA:-}" ]]; then
  (umask 077 && printf '%s' "$KUBECONFIG_DATA" > "$RUNNER_TEMP/kubeconfig")
  export KUBECONFIG="$RUNNER_TEMP/kubeconfig"
fi

pulumi login --non-interactive "$PULUMI_BACKEND_URL" >/dev/null
pulumi stack select --create --non-interactive "$STACK"
declare -A secrets=(
  [coreApiToken]=PLEXICA_CORE_API_TOKEN
  [databaseUrl]=PLEXICA_DATABASE_URL
  [redisUrl]=PLEXICA_REDIS_URL
  [jwtSecret]=PLEXICA_JWT_SECRET
)
for key in "${!secrets[@]}"; do
  variable="${secrets[$key]}"
  if [[ -n "${!variable:-}" ]]; then
    printf '%s' "${!variable}" | pulumi config set --secret --stack "$STACK" "plexica:$key" >/dev/null
  fi
done
python -m plexica_infra validate plugins --stack "$STACK"
pulumi up --stack "$STACK" --yes --non-interactive --diff \
  --policy-pack policy --policy-pack-config "policy/config/$STACK.json"
