#!/usr/bin/env bash
# Runs one `imagefactory lab ...` command from LAB_* variables, so the GitHub Action
# (action.yml) and the Azure Pipelines templates (templates/*.yml) pass their inputs the
# same way and behave alike. Empty variables are left out; booleans are true/false in any
# case; LAB_OVERRIDES holds one NAME=VALUE a line.
#
#   LAB_TASK      vm create | vm delete | image create | image delete |
#                 env create | env update | env delete
#   LAB_ID, LAB_NAME, LAB_OUTPUT (github | azure-pipelines | json | text), LAB_TIMEOUT
#   LAB_TEMPLATE, LAB_PARAMETERS, LAB_OVERRIDES, LAB_PARAMETER_OVERRIDES
#   LAB_FAIL_ON_ARTIFACT_ERROR, LAB_RETRIES, LAB_DELETE_FAILED_BEFORE_RETRY,
#   LAB_DELETE_FAILED_DEPLOYMENT_BEFORE_RETRY, LAB_APPEND_RETRY_NUMBER,
#   LAB_WAIT_ARTIFACTS_MINUTES                      (vm create)
#   LAB_VM, LAB_OS_STATE, LAB_DESCRIPTION           (image create)
#   LAB_REPOSITORY, LAB_EXPORT_TEMPLATE             (env create)
set -euo pipefail

case "${LAB_TASK:-}" in
  "vm create" | "vm delete" | "image create" | "image delete" | \
  "env create" | "env update" | "env delete") ;;
  *)
    echo "lab-task: LAB_TASK '${LAB_TASK:-}' is not one of: vm create, vm delete, image create, image delete, env create, env update, env delete." >&2
    exit 2
    ;;
esac

read -r -a task <<< "$LAB_TASK"
args=(lab "${task[@]}" --lab "${LAB_ID:-}" --name "${LAB_NAME:-}")

value() { # --flag VARIABLE: add the flag and the value when the variable is not empty
  if [ -n "${!2:-}" ]; then args+=("$1" "${!2}"); fi
}
switch() { # --flag VARIABLE: add the flag when the variable is true
  local setting="${!2:-false}"
  if [ "${setting,,}" = "true" ]; then args+=("$1"); fi
}

value --output LAB_OUTPUT
value --timeout LAB_TIMEOUT
value --template LAB_TEMPLATE
value --parameters LAB_PARAMETERS
value --parameter-overrides LAB_PARAMETER_OVERRIDES
while IFS= read -r line; do
  line="${line%$'\r'}"
  if [ -n "${line//[[:space:]]/}" ]; then args+=(--override "$line"); fi
done <<< "${LAB_OVERRIDES:-}"
switch --fail-on-artifact-error LAB_FAIL_ON_ARTIFACT_ERROR
if [ -n "${LAB_RETRIES:-}" ] && [ "${LAB_RETRIES}" != "0" ]; then args+=(--retries "$LAB_RETRIES"); fi
switch --delete-failed-before-retry LAB_DELETE_FAILED_BEFORE_RETRY
switch --delete-failed-deployment-before-retry LAB_DELETE_FAILED_DEPLOYMENT_BEFORE_RETRY
switch --append-retry-number LAB_APPEND_RETRY_NUMBER
if [ -n "${LAB_WAIT_ARTIFACTS_MINUTES:-}" ] && [ "${LAB_WAIT_ARTIFACTS_MINUTES}" != "0" ]; then
  args+=(--wait-artifacts-minutes "$LAB_WAIT_ARTIFACTS_MINUTES")
fi
value --vm LAB_VM
value --os-state LAB_OS_STATE
value --description LAB_DESCRIPTION
value --repository LAB_REPOSITORY
value --export-template LAB_EXPORT_TEMPLATE

exec imagefactory "${args[@]}"
