"""run_coordinator: the factory's runs, one at a time, in the order their requests came.

One instance (`shared.run.request.COORDINATOR_ID`) at a time. Each execution takes what
waits in the run queue (one run covering every request waiting, over the newest head of
the branch), runs it as the sub-orchestration `factory_run` under the run's own id (so
`push-<commit>`, `schedule-<occurrence>` and `manual-...` stay the ids an operator
follows), and continues as new to take again, with the outcome in its input. When
nothing waits the take closes the queue and the coordinator completes.

It waits for no external event: the Durable Python SDK's `continue_as_new` drops events
that arrived and were not yet awaited, so requests live in the queue's storage instead.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrations.steps import Orchestration, call
from shared.function_names import FACTORY_RUN, RUN_COORDINATOR, TAKE_RUN
from shared.run.request import Finished, Take, TakeRequest

bp = df.Blueprint()


@bp.function_name(RUN_COORDINATOR)
@bp.orchestration_trigger(context_name="context")
def run_coordinator(context: df.DurableOrchestrationContext) -> Orchestration:
    ask = TakeRequest.model_validate(context.get_input())
    taken = Take.model_validate((yield call(context, TAKE_RUN, ask.model_dump(mode="json"))))
    if taken.run is None or taken.request is None:
        return {"epoch": ask.epoch, "ran": None, "stale": taken.stale}
    context.set_custom_status({"running": taken.run})
    ok = True
    try:
        yield context.call_sub_orchestrator(
            FACTORY_RUN, taken.request.model_dump(mode="json"), taken.run
        )
    except Exception:  # the run's own status says why; the queue goes on
        ok = False
    following = ask.model_copy(
        update={"step": ask.step + 1, "finished": Finished(run=taken.run, ok=ok)}
    )
    context.continue_as_new(following.model_dump(mode="json"))
    result: Any = None
    return result
