"""The `imagefactory lab ...` commands: arguments, and exit codes from what a task raised.

Exit codes: 0 done (a deletion of something already gone included), 1 Azure refused or
the operation failed or timed out, 2 a usage error. Messages are one sentence on stderr;
outputs go to stdout (or `$GITHUB_OUTPUT`) in the `--output` format.

The task modules (and the SDKs they load) are imported only when a lab command runs, so
the other commands start as fast as before.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from shared.lab_tasks.common import Context, Result
    from shared.lab_tasks.environments import EnvTask

    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_TIMEOUT_MINUTES = 120.0
FORMATS = ("github", "azure-pipelines", "json", "text")
OS_STATES = (
    "NonSysprepped", "SysprepRequested", "SysprepApplied",
    "NonDeprovisioned", "DeprovisionRequested", "DeprovisionApplied",
)  # fmt: skip

Task = Callable[[argparse.Namespace, "Context"], "Result"]


def _common(parser: argparse.ArgumentParser, task: Task) -> None:
    parser.add_argument("--lab", required=True, metavar="ID", help="the lab's resource id")
    parser.add_argument("--name", required=True, help="the name of the VM, image or environment")
    parser.add_argument(
        "--output",
        choices=FORMATS,
        help="how to write the outputs (default: json, or text on a terminal)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_MINUTES,
        metavar="MINUTES",
        help=f"give up waiting after this long (default {DEFAULT_TIMEOUT_MINUTES:g})",
    )
    parser.set_defaults(run=_runner(task))


def _parameters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parameters", metavar="FILE", help="an ARM parameters file")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter value (repeatable; wins over --parameters)",
    )
    parser.add_argument(
        "--parameter-overrides",
        metavar="TEXT",
        help="the extension's ParameterOverrides text: -name 'value' -other value",
    )


def _vm_create(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.vms import CreateVm, create_vm

    task = CreateVm(
        lab=args.lab,
        name=args.name,
        template=args.template,
        parameters=args.parameters,
        overrides=tuple(args.override),
        parameter_overrides=args.parameter_overrides,
        fail_on_artifact_error=args.fail_on_artifact_error,
        retries=args.retries,
        delete_failed_before_retry=args.delete_failed_before_retry,
        delete_failed_deployment_before_retry=args.delete_failed_deployment_before_retry,
        append_retry_number=args.append_retry_number,
        wait_artifacts_minutes=args.wait_artifacts_minutes,
    )
    return create_vm(task, ctx)


def _env_task(args: argparse.Namespace) -> EnvTask:
    from shared.lab_tasks.environments import EnvTask

    return EnvTask(
        lab=args.lab,
        name=args.name,
        template=args.template,
        repository=getattr(args, "repository", None),
        parameters=args.parameters,
        overrides=tuple(args.override),
        parameter_overrides=args.parameter_overrides,
        export_template=getattr(args, "export_template", None),
    )


def _vm_delete(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.vms import delete_vm

    return delete_vm(args.lab, args.name, ctx)


def _image_create(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.images import CreateImage, create_image

    return create_image(
        CreateImage(args.lab, args.name, args.vm, args.os_state, args.description), ctx
    )


def _image_delete(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.images import delete_image

    return delete_image(args.lab, args.name, ctx)


def _env_create(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.environments import create_env

    return create_env(_env_task(args), ctx)


def _env_update(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.environments import update_env

    return update_env(_env_task(args), ctx)


def _env_delete(args: argparse.Namespace, ctx: Context) -> Result:
    from shared.lab_tasks.environments import delete_env

    return delete_env(args.lab, args.name, ctx)


def _kind(kinds: Subcommands, name: str, summary: str) -> Subcommands:
    """A `lab <kind>` command, whose actions follow as its subcommands."""
    return kinds.add_parser(name, help=summary).add_subparsers(
        dest="lab_action", required=True, metavar="ACTION"
    )


def _action(actions: Subcommands, name: str, summary: str, task: Task) -> argparse.ArgumentParser:
    """A `lab <kind> <action>` subcommand that runs `task`, with the options every task takes."""
    parser = actions.add_parser(name, help=summary)
    _common(parser, task)
    return parser


def add_lab_arguments(lab: argparse.ArgumentParser) -> None:
    """The `lab vm|image|env ...` subcommands, under the `lab` command's parser."""
    kinds = lab.add_subparsers(dest="lab_kind", required=True, metavar="KIND")

    vm = _kind(kinds, "vm", "lab virtual machines")
    create = _action(vm, "create", "create a lab VM from a lab VM ARM template", _vm_create)
    create.add_argument("--template", required=True, metavar="FILE", help="the lab VM template")
    _parameters(create)
    create.add_argument("--fail-on-artifact-error", action="store_true")
    create.add_argument("--retries", type=int, default=0, metavar="N")
    create.add_argument("--delete-failed-before-retry", action="store_true")
    create.add_argument("--delete-failed-deployment-before-retry", action="store_true")
    create.add_argument("--append-retry-number", action="store_true")
    create.add_argument("--wait-artifacts-minutes", type=float, default=0, metavar="M")
    _action(vm, "delete", "delete a lab VM", _vm_delete)

    image = _kind(kinds, "image", "custom images")
    create = _action(image, "create", "create a custom image from a lab VM", _image_create)
    create.add_argument("--vm", required=True, metavar="VM_NAME", help="the source lab VM")
    create.add_argument("--os-state", required=True, choices=OS_STATES, metavar="STATE")
    create.add_argument("--description")
    _action(image, "delete", "delete a custom image", _image_delete)

    env = _kind(kinds, "env", "lab environments")
    create = _action(env, "create", "create an environment from a repository template", _env_create)
    create.add_argument("--repository", required=True, metavar="REPO")
    create.add_argument("--template", required=True, metavar="TEMPLATE")
    _parameters(create)
    create.add_argument("--export-template", metavar="DIR")
    update = _action(env, "update", "deploy another template into an environment", _env_update)
    update.add_argument("--template", required=True, metavar="FILE")
    _parameters(update)
    _action(env, "delete", "delete an environment", _env_delete)


def _runner(task: Task) -> Callable[[argparse.Namespace, Console, Console], int]:
    def run(args: argparse.Namespace, out: Console, err: Console) -> int:
        from azure.core.exceptions import AzureError, ClientAuthenticationError

        from shared.lab_tasks.common import Context
        from shared.lab_tasks.errors import LabTaskFailed, LabUsageError
        from shared.lab_tasks.outputs import write_outputs
        from shared.lab_tasks.waiting import Deadline

        def fail(code: int, message: str) -> int:
            err.print(f"imagefactory lab: {message}", highlight=False, markup=False)
            return code

        if args.timeout <= 0:
            return fail(EXIT_USAGE, "--timeout must be more than 0 minutes")
        ctx = Context(out, err, Deadline(args.timeout))
        try:
            result = task(args, ctx)
            write_outputs(result.outputs, result.secret, args.output, out)
        except LabUsageError as exc:
            return fail(EXIT_USAGE, f"{exc}.")
        except LabTaskFailed as exc:
            return fail(EXIT_FAILED, str(exc))
        except ClientAuthenticationError as exc:
            return fail(EXIT_FAILED, f"cannot sign in to Azure: {exc.message.splitlines()[0]}")
        except AzureError as exc:
            return fail(EXIT_FAILED, f"Azure could not be reached: {str(exc).splitlines()[0]}")
        return EXIT_OK

    return run
