"""The typed inputs and outputs of the orchestrators and activities (stable JSON forms).

Large data travels by reference (a lab id, a blob name), never a secret or a SAS URL.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from shared.config.models import FAMILY_PATTERN, Artifact, Factory, GalleryImage, OsType
from shared.model import tags
from shared.model.arm_ids import LabId
from shared.model.base import Record
from shared.planning.inventory import CatalogEntry, LabInventory
from shared.planning.plan import Build, Distribution, Plan
from shared.run.timeline import StepSpan


class MonitorTiming(Record):
    """How often the monitors read a status and how the configured timeouts scale (the
    settings' poll_seconds and time_scale; the local world runs minutes as seconds)."""

    poll_seconds: float = 60.0
    time_scale: float = 1.0

    def timeout_seconds(self, minutes: int) -> float:
        return minutes * 60 * self.time_scale


class LoadedConfig(Record):
    factory: Factory | None = None
    problems: list[str] = Field(default_factory=list)
    pace: MonitorTiming = Field(default_factory=MonitorTiming)  # key kept: stored histories


class LabRef(Record):
    lab: str


class CatalogRequest(Record):
    factory_lab: str
    factory_id: str


class CapacityRequest(Record):
    factory_lab: str
    vm_sizes: list[str] = Field(default_factory=list, description="whose vCPUs to read")


class CatalogListing(Record):
    entries: list[CatalogEntry] = Field(default_factory=list)


class RunStatusRequest(Record):
    run_ids: list[str]


class ActiveRuns(Record):
    """Which of the asked runs are still going (running, pending or suspended)."""

    run_ids: list[str] = Field(default_factory=list)


class GalleryRequest(Record):
    lab: str
    images: list[GalleryImage] = Field(description="whose newest versions to read")


class BuildVmRequest(Record):
    lab: str
    name: str
    build_id: str
    os: OsType
    size: str
    artifacts: list[Artifact]
    tags: dict[str, str]
    gallery: GalleryImage | None = None  # its version resolved (never `latest`)
    custom_image: str | None = None
    notes: str = ""


class VmRef(Record):
    lab: str
    name: str
    build_id: str = ""
    factory_id: str = ""
    run_id: str = ""

    def owner_tags(self) -> dict[str, str]:
        """The tags that make a VM this run's, for this build, of this factory."""
        return {tags.FACTORY: self.factory_id, tags.BUILD_ID: self.build_id, tags.RUN: self.run_id}


ARM_ENDED = ("succeeded", "failed", "canceled")  # ARM's terminal states, lowercase


class Status(Record):
    """One read of a long operation's state, as the adapter made it and the monitor reads
    it: `settled` says the wait is over; `retry_after`, when the service sent one, how
    many seconds to wait before the next read."""

    state: str
    detail: str = ""
    retry_after: float | None = None

    @property
    def settled(self) -> bool:
        return self.state != "running"


class VmStatus(Status):
    """A lab VM: "running" (provisioning, artifacts), "ready", "failed" or "missing"."""

    artifact_failed: bool = False
    artifacts_applied: int = 0
    artifacts_total: int = 0
    power_state: str = Field(default="", description="the compute VM's, lowercase")

    @property
    def deallocated(self) -> bool:
        """Azure reads an OS disk only from a deallocated VM (a guest shutdown is not)."""
        return self.power_state.lower() == "deallocated"


class CaptureRequest(Record):
    lab: str
    vm: str
    blob: str
    grant_seconds: int = 3600


class OperationRef(Record):
    """An Azure-AsyncOperation status URL (no secret: reading it needs a token)."""

    subscription: str
    url: str


class ErrorCause(Record):
    """One error of a failed operation: its own, or one its details nest."""

    code: str
    message: str = ""


class OperationStatus(Status):
    """An Azure-AsyncOperation: "running", "succeeded" or "failed" (`detail`: its error;
    `errors`: that error and every one nested in it, outermost first)."""

    errors: list[ErrorCause] = Field(default_factory=list)


class BlobRef(Record):
    """A blob in a lab's uploads container; `catalog`: the factory lab's, reached with the
    factory's own identity rather than an upload URI."""

    lab: str
    blob: str
    catalog: bool = False


class CaptureWatch(Record):
    """Watching a capture: the disk grant's operation, then the copy into the catalog."""

    blob: BlobRef
    grant: OperationRef


class LabelRequest(Record):
    blob: BlobRef
    metadata: dict[str, str]


class CopyStatus(Status):
    """A blob copy: "pending" (or "granting": its disk's read access is being granted),
    "success", "failed" or "missing"."""

    progress: str = ""

    @property
    def settled(self) -> bool:
        return self.state in ("success", "failed", "missing")


class ImageStatus(Status):
    """A custom image: "succeeded", "failed", "canceled", "missing", or the provisioning
    state while it is made."""

    @property
    def settled(self) -> bool:
        return self.state in (*ARM_ENDED, "missing")


class LabCopyRequest(Record):
    source: BlobRef  # a catalog blob
    destination: BlobRef
    read_seconds: int = 3600


class ImageRequest(Record):
    lab: str
    name: str
    vhd: BlobRef
    os: OsType
    generalized: bool
    tags: dict[str, str]
    note: str = ""


class CreatedVm(Record):
    """A VM create started (its operation, whose error names the cause if the deployment
    fails), adopted (no operation of this call), or refused for want of room (the lab's VM
    policy, the region's vCPU quota: `detail` says which), to be asked again later."""

    outcome: str  # "created" | "adopted" | "refused"
    operation: OperationRef | None = None
    detail: str = ""


class ImageRef(Record):
    lab: str
    name: str
    factory_id: str = ""


class StepSeconds(Record):
    """Seconds per step: each step's timeout (the configured minutes, scaled by the pace),
    or how long each is expected to take (learned from the family's last build; 0: not
    known). `vm_create` covers the VM's deployment and its artifacts when expected."""

    vm_create: float = 0.0
    artifacts: float = 0.0
    deallocate: float = 0.0
    disk_copy: float = 0.0
    image_create: float = 0.0
    test_gate: float = 0.0
    vm_delete: float = 0.0

    def known(self) -> dict[str, float]:
        """The steps with a value, by field name (what the catalog stores)."""
        return {name: value for name, value in self.model_dump().items() if value > 0}


class BuildInput(Record):
    build: Build
    factory_id: str
    factory_lab: str
    commit: str | None
    os: OsType
    vm_size: str
    artifacts: list[Artifact]
    test_artifacts: list[Artifact] = Field(default_factory=list)
    test_vm_name: str = ""
    gallery: GalleryImage | None = None  # its version resolved (never `latest`)
    parent_image: str | None = None
    generalize: bool = True
    image_tags: dict[str, str] = Field(default_factory=dict)
    timeouts: StepSeconds
    expected: StepSeconds = Field(default_factory=StepSeconds)
    vm_ttl_hours: int = 24
    poll_seconds: float = 60.0


class StepResult(Record):
    """The outcome of one build or distribution: ok, or which step failed and why."""

    family: str
    version: str
    lab: str | None = None
    ok: bool
    step: str = ""
    reason: str = ""
    warnings: list[str] = Field(
        default_factory=list, description="left to the sweeper or a later run"
    )
    spans: list[StepSpan] = Field(default_factory=list, description="the timeline of its steps")


class VmDeletion(Record):
    """A build VM whose deletion the run confirms before it reports done."""

    vm: VmRef
    started: bool = Field(description="False: starting the delete failed; start it again")
    timeout_seconds: float
    poll_seconds: float = 60.0


class BuildOutcome(Record):
    """build_image's output: the image's result, which releases its distributions and
    children at once, and the build VM deletion still to confirm (None: the VM is gone)."""

    result: StepResult
    deletion: VmDeletion | None = None


class DistributeInput(Record):
    distribution: Distribution
    factory_id: str
    factory_lab: str
    os: OsType
    generalized: bool = True
    build_id: str
    image_tags: dict[str, str]
    timeouts: StepSeconds
    expected: StepSeconds = Field(default_factory=StepSeconds)
    poll_seconds: float = 60.0


class DistributeBatch(Record):
    """One version's copies to the labs of one subscription, at most `concurrency` at once;
    each copy is a distribute_image of its own, under the instance id at the same index."""

    copies: list[DistributeInput]
    instance_ids: list[str]
    concurrency: int = Field(ge=1)


class RetirementRequest(Record):
    """One queue message: which (lab, image family) to re-check, and the run that asked.

    It carries no authority: no factory id, keep, pins or selection. The worker re-derives
    them from the current configuration and a fresh read of the lab, so a stale or crafted
    message can delete nothing the policy keeps; any other field makes it invalid.
    """

    model_config = ConfigDict(extra="forbid")

    lab: LabId = Field(max_length=400, description="The lab's resource id.")
    family: str = Field(pattern=FAMILY_PATTERN)
    run_id: str | None = Field(default=None, max_length=200, description="for the logs only")


class RetirementBatch(Record):
    messages: list[RetirementRequest]


class RunReport(Record):
    instance_id: str = ""
    started: datetime | None = None
    ended: datetime | None = None
    commit: str | None = None
    trigger: str = ""
    dry_run: bool = False
    problems: list[str] = Field(default_factory=list, description="invalid configuration")
    plan: Plan | None = None
    built: list[StepResult] = Field(default_factory=list)
    distributed: list[StepResult] = Field(default_factory=list)
    failed: list[StepResult] = Field(default_factory=list)
    skipped: list[StepResult] = Field(default_factory=list)
    retirements_queued: int = 0
    warnings: list[str] = Field(default_factory=list, description="work left to later runs")
    inventory_errors: list[LabInventory] = Field(default_factory=list)
