"""The admin API under `/_admin` (outside the ARM namespace; no token needed).

- `GET  /_admin/health`                        -> {"status": "ok"}
- `GET  /_admin/info`                          -> endpoints, CA file, ports
- `POST /_admin/reset`                         -> state back to the scenario
- `POST /_admin/restart`                       -> reload state from SQLite (persistence on)
- `GET  /_admin/state`                         -> snapshot of the whole world
- `GET  /_admin/requests`, `DELETE` to zero    -> counts by method/resource type/operation
- `GET  /_admin/secrets`                       -> VM passwords received (memory only)
- `GET  /_admin/faults`, `POST` (a fault rule), `DELETE` (all), `DELETE /_admin/faults/<id>`
- `GET  /_admin/clock`, `POST {"advance": s}` or `{"scale": x}`
- `POST /_admin/quota` `{"subscription", "location", "vcpus"}`
- `POST /_admin/throttling` (the scenario's `throttling` block; buckets start full)
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from werkzeug.wrappers import Request, Response

from emulator.core import Core
from emulator.exceptions import ArmError
from emulator.scenario import FaultSpec, Throttling


def _reply(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _reply(status, {"error": {"code": code, "message": message}})


class AdminApi:
    def __init__(self, core: Core, info: dict[str, Any]) -> None:
        self.core = core
        self.info = info

    def _body(self, request: Request) -> dict[str, Any]:
        data = json.loads(request.get_data() or b"{}")
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def handle(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except (ValueError, ValidationError) as exc:
            message = str(exc).splitlines()[0]
            return _error(400, "InvalidRequestContent", f"The admin request is invalid: {message}")

    def _dispatch(self, request: Request) -> Response:
        core = self.core
        path = request.path.rstrip("/")
        method = request.method.upper()
        if path == "/_admin/health":
            return _reply(200, {"status": "ok"})
        if path == "/_admin/info" and method == "GET":
            return _reply(200, self.info)
        if path == "/_admin/reset" and method == "POST":
            core.reset()
            return _reply(200, {"reset": True})
        if path == "/_admin/restart" and method == "POST":
            try:
                core.restart()
            except ArmError as error:
                return _reply(error.status, error.body())
            return _reply(200, {"restarted": True})
        if path == "/_admin/state" and method == "GET":
            return _reply(200, core.snapshot())
        if path == "/_admin/secrets" and method == "GET":
            return _reply(200, {"passwords": list(core.secrets_received)})
        if path == "/_admin/requests":
            if method == "GET":
                return _reply(200, core.counter.snapshot())
            if method == "DELETE":
                core.counter.reset()
                return _reply(200, core.counter.snapshot())
        if path == "/_admin/faults":
            if method == "GET":
                return _reply(200, {"faults": core.faults.describe()})
            if method == "POST":
                spec = FaultSpec.model_validate(self._body(request))
                return _reply(201, {"id": core.faults.add(spec)})
            if method == "DELETE":
                core.faults.clear()
                return _reply(200, {"faults": []})
        if path.startswith("/_admin/faults/") and method == "DELETE":
            rule = path.rsplit("/", 1)[-1]
            if not rule.isdigit() or not core.faults.remove(int(rule)):
                return _error(404, "FaultNotFound", f"There is no fault rule '{rule}'.")
            return _reply(200, {"removed": int(rule)})
        if path == "/_admin/clock":
            if method == "POST":
                body = self._body(request)
                if "scale" in body:
                    core.clock.set_scale(float(body["scale"]))
                if "advance" in body:
                    core.clock.advance(float(body["advance"]))
                with core.lock:
                    core.advance()
                    core.save()
            if method in ("GET", "POST"):
                return _reply(200, {"now": core.now().isoformat(), "scale": core.clock.scale})
        if path == "/_admin/throttling" and method == "POST":
            core.throttle.configure(Throttling.model_validate(self._body(request)))
            return _reply(200, {"configured": True})
        if path == "/_admin/quota" and method == "POST":
            body = self._body(request)
            with core.lock:
                sub = core.subscription(str(body["subscription"]))
                sub.vcpu_quota[str(body["location"]).lower()] = int(body["vcpus"])
                core.save()
            return _reply(200, {"vcpuQuota": sub.vcpu_quota})
        return _error(404, "NotFound", f"There is no admin endpoint {method} {path}.")
