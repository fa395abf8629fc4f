"""The one base of the factory's typed values, and the one way to say why one did not validate.

Every payload, plan, report and inventory record is a `Record`: frozen, camelCase in its JSON
form, and built from either spelling (Python names in code, camelCase on the wire).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel


class Record(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


def first_error(exc: ValidationError, whole: str = "", within: tuple[str | int, ...] = ()) -> str:
    """`where: what` of a validation's first error, on one line (a message that quotes the
    bad value may hold its line breaks); `whole` names the place when the error is about
    the value as a whole (no field), `within` prefixes the field path."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in (*within, *first["loc"])) or whole
    what = " ".join(str(first["msg"]).split())
    return f"{where}: {what}" if where else what
