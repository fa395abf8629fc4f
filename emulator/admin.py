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
from collections.abc import Callable
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
        except KeyError as exc:
            message = f"The admin request is invalid: it lacks the field {exc}."
            return _error(400, "InvalidRequestContent", message)
        except ArmError as error:
            return _reply(error.status, error.body())

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        method = request.method.upper()
        if path == "/_admin/health":
            return _reply(200, {"status": "ok"})
        if path.startswith("/_admin/faults/") and method == "DELETE":
            return self._remove_fault(path.rsplit("/", 1)[-1])
        endpoint = self._endpoints().get((method, path))
        if endpoint is None:
            return _error(404, "NotFound", f"There is no admin endpoint {method} {path}.")
        return endpoint(request)

    def _endpoints(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("GET", "/_admin/info"): lambda _: _reply(200, self.info),
            ("POST", "/_admin/reset"): self._reset,
            ("POST", "/_admin/restart"): self._restart,
            ("GET", "/_admin/state"): lambda _: _reply(200, self.core.snapshot()),
            ("GET", "/_admin/secrets"): self._secrets,
            ("GET", "/_admin/requests"): lambda _: _reply(200, self.core.counter.snapshot()),
            ("DELETE", "/_admin/requests"): self._clear_requests,
            ("GET", "/_admin/faults"): lambda _: self._faults(),
            ("POST", "/_admin/faults"): self._add_fault,
            ("DELETE", "/_admin/faults"): self._clear_faults,
            ("GET", "/_admin/clock"): lambda _: self._clock(),
            ("POST", "/_admin/clock"): self._set_clock,
            ("POST", "/_admin/throttling"): self._throttling,
            ("POST", "/_admin/quota"): self._quota,
        }

    def _reset(self, request: Request) -> Response:
        self.core.reset()
        return _reply(200, {"reset": True})

    def _restart(self, request: Request) -> Response:
        self.core.restart()
        return _reply(200, {"restarted": True})

    def _secrets(self, request: Request) -> Response:
        return _reply(200, {"passwords": list(self.core.secrets_received)})

    def _clear_requests(self, request: Request) -> Response:
        self.core.counter.reset()
        return _reply(200, self.core.counter.snapshot())

    def _faults(self) -> Response:
        return _reply(200, {"faults": self.core.faults.describe()})

    def _add_fault(self, request: Request) -> Response:
        spec = FaultSpec.model_validate(self._body(request))
        return _reply(201, {"id": self.core.faults.add(spec)})

    def _clear_faults(self, request: Request) -> Response:
        self.core.faults.clear()
        return _reply(200, {"faults": []})

    def _remove_fault(self, rule: str) -> Response:
        if not rule.isdigit() or not self.core.faults.remove(int(rule)):
            return _error(404, "FaultNotFound", f"There is no fault rule '{rule}'.")
        return _reply(200, {"removed": int(rule)})

    def _clock(self) -> Response:
        return _reply(200, {"now": self.core.now().isoformat(), "scale": self.core.clock.scale})

    def _set_clock(self, request: Request) -> Response:
        core = self.core
        body = self._body(request)
        if "scale" in body:
            core.clock.set_scale(float(body["scale"]))
        if "advance" in body:
            core.clock.advance(float(body["advance"]))
        with core.lock:
            core.advance()
            core.save()
        return self._clock()

    def _throttling(self, request: Request) -> Response:
        self.core.throttle.configure(Throttling.model_validate(self._body(request)))
        return _reply(200, {"configured": True})

    def _quota(self, request: Request) -> Response:
        core = self.core
        body = self._body(request)
        with core.lock:
            sub = core.subscription(str(body["subscription"]))
            location = str(body["location"]).lower()
            if body.get("family"):  # one VM family's quota, else the regional one
                family = str(body["family"]).lower()
                sub.family_vcpu_quota.setdefault(location, {})[family] = int(body["vcpus"])
            else:
                sub.vcpu_quota[location] = int(body["vcpus"])
            core.save()
        return _reply(200, {"vcpuQuota": sub.vcpu_quota, "familyVcpuQuota": sub.family_vcpu_quota})
