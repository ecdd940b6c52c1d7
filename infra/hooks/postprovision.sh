#!/bin/sh
# azd postprovision hook: wait until the function app's Key Vault references resolve, then restart
# the app, so its first tick reads the webhook URLs and not the literal @Microsoft.KeyVault(...).
#
# Why: the platform resolves the references when the app is (re)configured, possibly before the
# identity's new Key Vault Secrets User role applies (up to 10 minutes); an unresolved reference is
# passed to the app as its literal text and cached for up to 24 hours, and pullwatch refuses to
# start on it. Microsoft documents forcing a new resolution with a POST to
# <site>/config/configreferences/appsettings/refresh and reading each reference's status from
# <site>/config/configreferences/appsettings
# (https://learn.microsoft.com/azure/app-service/app-service-key-vault-references#understand-rotation;
# the status list: https://learn.microsoft.com/rest/api/appservice/web-apps/get-app-settings-key-vault-references).
#
# Reads AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and AZURE_FUNCTION_APP_NAME from the environment
# azd gives hooks (https://learn.microsoft.com/azure/developer/azure-developer-cli/azd-extensibility),
# or from `azd env get-value`. Needs the Azure CLI signed in (`az login`: `azd auth login` is not
# enough). Prints setting names and statuses, never values.
# POSTPROVISION_ATTEMPTS (default 45) x POSTPROVISION_INTERVAL_SECONDS (default 20): 15 minutes.
set -eu

api_version=2022-03-01
attempts=${POSTPROVISION_ATTEMPTS:-45}
interval=${POSTPROVISION_INTERVAL_SECONDS:-20}

say() { printf 'postprovision: %s\n' "$*"; }
fail() { printf 'postprovision: %s\n' "$*" >&2; exit 1; }

for setting in POSTPROVISION_ATTEMPTS:"$attempts" POSTPROVISION_INTERVAL_SECONDS:"$interval"; do
  case ${setting#*:} in
    '' | *[!0-9]*) fail "${setting%%:*} must be a whole number, not '${setting#*:}'" ;;
  esac
done

# An azd environment value: the hook's environment first, then azd itself.
env_value() {
  found=$(printenv "$1" || true)
  if [ -z "$found" ] && command -v azd >/dev/null 2>&1; then
    found=$(azd env get-value "$1" 2>/dev/null || true)
  fi
  [ -n "$found" ] || fail "$1 is not set (run this hook through azd, or export $1)"
  printf '%s' "$found"
}

subscription=$(env_value AZURE_SUBSCRIPTION_ID)
resource_group=$(env_value AZURE_RESOURCE_GROUP)
app=$(env_value AZURE_FUNCTION_APP_NAME)
site="/subscriptions/$subscription/resourceGroups/$resource_group/providers/Microsoft.Web/sites/$app"
references="$site/config/configreferences/appsettings?api-version=$api_version"
refresh="$site/config/configreferences/appsettings/refresh?api-version=$api_version"

# The hook uses the Azure CLI, which `azd auth login` does not sign in: say so rather than warn later.
command -v az >/dev/null 2>&1 \
  || fail "the Azure CLI (az) is not installed; install it, run az login, then: azd hooks run postprovision"
az account show --subscription "$subscription" --output none \
  || fail "the Azure CLI cannot use subscription $subscription (azd auth login does not sign in az): run az login, then: azd hooks run postprovision"

# name<TAB>status of each Key Vault reference that the JMESPath filter $1 selects ('' selects all)
reference_statuses() {
  az rest --method get --url "$references" --query "value[$1].[name, properties.status]" --output tsv
}

if ! all=$(reference_statuses '')
then
  say "WARNING: could not read the Key Vault reference status of $app; restarting it anyway"
elif [ -z "$all" ]; then
  say "$app has no Key Vault references: nothing to wait for"
  exit 0
else
  attempt=1
  while :; do
    az rest --method post --url "$refresh" --output none \
      || say "WARNING: the refresh request failed (attempt $attempt); reading the status anyway"
    pending=$(reference_statuses "?properties.status!='Resolved'") || pending="(status unreadable)"
    if [ -z "$pending" ]; then
      say "every Key Vault reference of $app is resolved"
      break
    fi
    if [ "$attempt" -ge "$attempts" ]; then
      printf 'postprovision: Key Vault references of %s still unresolved after %s attempts:\n' \
        "$app" "$attempts" >&2
      printf '%s\n' "$pending" | awk -F '\t' '{ print "  " $1 ": " $2 }' >&2
      fail "check that the app's identity has Key Vault Secrets User on the vault (Portal: the function app > Settings > Environment variables shows each reference's status), then run: azd hooks run postprovision"
    fi
    say "waiting for the Key Vault role to apply (attempt $attempt of $attempts):" \
      "$(printf '%s' "$pending" | cut -f1 | tr '\n' ' ')"
    attempt=$((attempt + 1))
    sleep "$interval"
  done
fi

if az functionapp restart --name "$app" --resource-group "$resource_group" \
  --subscription "$subscription" --output none
then
  say "restarted $app: its next start reads the resolved values"
else
  say "WARNING: could not restart $app; restart it before the first tick: az functionapp restart --name $app --resource-group $resource_group"
fi
