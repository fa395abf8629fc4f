"""Function names are global in a Function App: every orchestrator, activity and queue
is named here once and called by these strings."""

from __future__ import annotations

# Orchestrators
FACTORY_RUN = "factory_run"
RUN_COORDINATOR = "run_coordinator"  # one instance (shared.run.request.COORDINATOR_ID)
BUILD_IMAGE = "build_image"
CONFIRM_VM_DELETED = "confirm_vm_deleted"  # a build VM's deletion, off the critical path
DISTRIBUTE_IMAGE = "distribute_image"
DISTRIBUTE_BATCH = "distribute_batch"  # one version to one subscription's labs

# Activities
LOAD_CONFIG = "load_config"
INVENTORY_LAB = "inventory_lab"
INVENTORY_CATALOG = "inventory_catalog"
INVENTORY_CAPACITY = "inventory_capacity"  # the factory lab's VM policy and vCPU quota
RUN_STATUSES = "run_statuses"
RESOLVE_GALLERY = "resolve_gallery"
CREATE_BUILD_VM = "create_build_vm"
VM_STATUS = "vm_status"
DELETE_VM = "delete_vm"
DELETE_EXPIRED_VM = "delete_expired_vm"
START_CAPTURE = "start_capture"
CAPTURE_STATUS = "capture_status"
FINISH_CAPTURE = "finish_capture"
OPERATION_STATUS = "operation_status"
LABEL_CATALOG = "label_catalog"
STOP_VM = "stop_vm"
START_LAB_COPY = "start_lab_copy"
LAB_COPY_STATUS = "lab_copy_status"
CREATE_CUSTOM_IMAGE = "create_custom_image"
CUSTOM_IMAGE_STATUS = "custom_image_status"
DELETE_IMAGE = "delete_image"
DELETE_BLOB = "delete_blob"
ENQUEUE_RETIREMENT = "enqueue_retirement"
TAKE_RUN = "take_run"
NOTIFY_RUN = "notify_run"  # the run's end, to its receivers
RETIREMENT_QUEUE = "imagefactory-retirements"

# Triggers: HTTP, push webhooks (one per provider of shared.webhooks.providers), timers, queues
HTTP_START_RUN = "http_start_run"
HTTP_RUN_STATUS = "http_run_status"
HTTP_LIST_RUNS = "http_list_runs"
HTTP_REPORT = "http_report"  # the fleet report page
WEBHOOK_GITHUB = "webhook_github"
WEBHOOK_AZURE_DEVOPS = "webhook_azure_devops"
WEBHOOK_GITLAB = "webhook_gitlab"
SCHEDULED_RUN = "scheduled_run"
ORPHAN_SWEEPER = "orphan_sweeper"
RETIREMENT_WORKER = "retirement_worker"  # reads RETIREMENT_QUEUE
