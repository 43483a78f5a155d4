#!/usr/bin/env bash
# Deploys voice-worker to Azure Container Apps with bicep/main.bicep. Idempotent: re-run it to roll out a
# new image or a parameter change. Prints resource names and URLs only, never keys or connection strings.
#
#   infra/deploy.sh -g <resource group> -l <region> [-e prod] [-n voicewk] [--acr] [-i registry/image:tag] [-t tag]
#
#   --acr        deploy an Azure Container Registry and build the image in it (az acr build, no local Docker);
#                -i is then ignored
#   -i IMAGE     use an existing image instead (public or otherwise pullable); required without --acr
#   -t TAG       image tag for --acr builds (default: git short sha, or a timestamp)
#   --no-incoming-call  skip the Event Grid IncomingCall subscription (e.g. a second, non-routed environment)
#   --alert-email ADDR  create Azure Monitor alerts (dead-letters, backlog, restarts, Cosmos 429s, Redis load)
#
# Needs Azure CLI >= 2.53 (Bicep >= 0.22 for .bicepparam with readEnvironmentVariable), `az login` done and
# Owner or User Access Administrator + Contributor on the resource group (the template creates role assignments).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
params="$root/bicep/main.bicepparam"

group=""
location=""
env_name="prod"
base_name="voicewk"
use_acr="false"
image=""
tag=""
incoming_call="true"
alert_email=""

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -g|--resource-group) group="$2"; shift 2 ;;
    -l|--location) location="$2"; shift 2 ;;
    -e|--env) env_name="$2"; shift 2 ;;
    -n|--base-name) base_name="$2"; shift 2 ;;
    -i|--image) image="$2"; shift 2 ;;
    -t|--tag) tag="$2"; shift 2 ;;
    --acr) use_acr="true"; shift ;;
    --no-incoming-call) incoming_call="false"; shift ;;
    --alert-email) alert_email="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done

[[ -n "$group" && -n "$location" ]] || { echo "-g and -l are required" >&2; usage 2; }
if [[ "$use_acr" == "false" && -z "$image" ]]; then
  echo "give -i registry/image:tag, or --acr to build the image in a new registry" >&2
  exit 2
fi
command -v az >/dev/null || { echo "Azure CLI (az) not found" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }
az_version="$(az version --query '"azure-cli"' -o tsv 2>/dev/null || echo 0)"
if [[ "$(printf '%s\n' 2.53.0 "$az_version" | sort -V | head -n1)" != "2.53.0" ]]; then
  echo "Azure CLI $az_version is too old: .bicepparam files need 2.53 or later (az upgrade)" >&2
  exit 1
fi
az account show --query id -o none 2>/dev/null || { echo "not logged in: run az login" >&2; exit 1; }

if [[ -z "$tag" ]]; then
  tag="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)"
fi

export VOICE_BASE_NAME="$base_name"
export VOICE_ENV="$env_name"
export VOICE_DEPLOY_ACR="$use_acr"
export VOICE_ALERT_EMAIL="$alert_email"
deployment="voice-worker-${env_name}"

# Runs the template (main.bicepparam names main.bicep with `using`); -o none: nothing from the
# deployment record is echoed.
# The Event Grid webhook key is kept across runs: the template's default (newGuid) would change it on
# every deployment while running replicas still hold the old one (Key Vault references refresh lazily).
existing_webhook_key() {
  local kv
  kv="$(az deployment group show --resource-group "$group" --name "$deployment" \
    --query "properties.outputs.keyVaultName.value" -o tsv 2>/dev/null || true)"
  [[ -n "$kv" ]] || return 0
  az keyvault secret show --vault-name "$kv" --name eventgrid-webhook-key --query value -o tsv 2>/dev/null || true
}

deploy() {
  local phase="$1"
  local key
  key="$(existing_webhook_key)"
  echo "==> deployment ($phase)"
  az deployment group create \
    --resource-group "$group" \
    --name "$deployment" \
    --parameters "$params" \
    ${key:+--parameters "eventGridWebhookKey=$key"} \
    --only-show-errors -o none
}

output() {
  az deployment group show --resource-group "$group" --name "$deployment" \
    --query "properties.outputs.$1.value" -o tsv
}

echo "==> resource group $group in $location"
az group create --name "$group" --location "$location" --tags app=voice-worker "environment=$env_name" -o none

# Phase 1: everything but the app. Role assignments (Key Vault secret reference, AcrPull) get time to
# propagate before the first revision needs them, and a new registry exists before the image is built.
export VOICE_DEPLOY_APP="false" VOICE_DEPLOY_INCOMING_CALL="false"
export VOICE_IMAGE="${image:-placeholder.invalid/voice-worker:${tag}}"
deploy "backing services"
if [[ "$use_acr" == "true" ]]; then
  acr_name="$(output acrName)"
  acr_server="$(output acrLoginServer)"
  echo "==> az acr build ${acr_server}/voice-worker:${tag}"
  az acr build --registry "$acr_name" --image "voice-worker:${tag}" --file "$root/Dockerfile" "$root" --only-show-errors -o none
  image="${acr_server}/voice-worker:${tag}"
fi
export VOICE_IMAGE="$image"

# Phase 2: the app, without the IncomingCall subscription, then wait until it answers.
export VOICE_DEPLOY_APP="true" VOICE_DEPLOY_INCOMING_CALL="false"
deploy "container app ${image}"
base_url="$(output publicBaseUrl)"
echo "==> waiting for ${base_url}/healthz"
for attempt in $(seq 1 60); do
  if curl -fsS -o /dev/null --max-time 5 "${base_url}/healthz"; then break; fi
  if [[ "$attempt" == 60 ]]; then
    echo "the app did not become healthy in 5 minutes; see: az containerapp logs show -g $group -n $(output containerAppName) --follow" >&2
    exit 1
  fi
  sleep 5
done

# Phase 3: Event Grid validates the webhook against the running app while creating the subscription.
if [[ "$incoming_call" == "true" ]]; then
  export VOICE_DEPLOY_INCOMING_CALL="true"
  deploy "IncomingCall subscription"
fi

readiness="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${base_url}/readyz" || true)"

cat <<EOF

voice-worker is deployed.
  app              $(output containerAppName)   ${base_url}
  readiness        /readyz answered ${readiness} (200 = every backend reachable)
  incoming calls   $(output incomingCallWebhook)
  ACS              $(output acsName)   $(output acsEndpoint)
  Cosmos DB        $(output cosmosEndpoint)
  Service Bus      $(output serviceBusNamespace)
  Key Vault        $(output keyVaultName)   (secrets eventgrid-webhook-key, redis-password with redisAuth=key)
  identity         client id $(output identityClientId)

Next steps (docs/DEPLOY.md):
  1. Buy or port a phone number on the ACS resource (portal: $(output acsName) > Phone numbers), then
     optionally restrict routing with param incomingCallPhoneNumbers and re-run this script.
  2. Call the number; follow a call with: az containerapp logs show -g $group -n $(output containerAppName) --follow
  3. Set alerts on the metrics listed under "Operating" in docs/DEPLOY.md.
EOF
