"""A backend class with the API of `Backend` that does not subclass it (duck-typed).

The docs promise that any class with that API works as a BACKEND. `DuckTypedBackend`
calls the class's own methods where it has them and `Backend`'s defaults where it does
not, and checks what each returns, so that a wrong answer is an error naming the method
rather than a traceback wherever the answer is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NoReturn

from django_prodserver.backend_code import call_backend
from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.bounds import shown
from django_prodserver.errors import BackendFailure
from django_prodserver.processes import ProcessSpec

KINDS = ("web", "worker")
# The methods `Backend` gives a default for, which such a class may leave out.
OPTIONAL_METHODS = (
    "run",
    "graceful_timeout",
    "listen_address",
    "warms_up",
    "probe",
    "environment_beside",
)


def what_it_lacks(backend_class: type) -> str | None:
    """What keeps `backend_class` from being used as a backend; None: nothing does."""
    if not callable(getattr(backend_class, "plan", None)):
        return "a plan() method"
    for name in OPTIONAL_METHODS:
        if hasattr(backend_class, name) and not callable(getattr(backend_class, name)):
            what = type(getattr(backend_class, name)).__name__
            return f"{name}() as a method (its `{name}` is a {what})"
    kind = getattr(backend_class, "kind", "web")
    if kind not in KINDS:
        return f"a `kind` of 'web' or 'worker' (it has {shown(kind)})"
    server = getattr(backend_class, "server", "")
    if not isinstance(server, str):
        return f"a `server` name that is a string (it has {shown(server)})"
    return None


def duck_typed_backend(spec: ProcessSpec, backend_class: type) -> DuckTypedBackend:
    """`backend_class(spec)`, used as a `Backend`, with the class attributes it gives."""
    attributes = {
        "kind": getattr(backend_class, "kind", "web"),
        "server": getattr(backend_class, "server", "") or backend_class.__name__,
        "single_instance": bool(getattr(backend_class, "single_instance", False)),
        "development_server": bool(getattr(backend_class, "development_server", False)),
        "backend_class": backend_class,
    }
    adapter: type[DuckTypedBackend] = type(
        f"DuckTyped{backend_class.__name__}", (DuckTypedBackend,), attributes
    )
    return adapter(spec)


class DuckTypedBackend(Backend):
    """Our backend API around a class that provides it without subclassing `Backend`."""

    backend_class: ClassVar[type]

    def __init__(self, spec: ProcessSpec) -> None:
        super().__init__(spec)
        self.instance = call_backend(spec, "be constructed", lambda: self.backend_class(spec))

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        plan: Plan = self.instance.plan(overrides, env)
        return plan

    def run(self, plan: Plan) -> int | None:
        if not hasattr(self.instance, "run"):
            return super().run(plan)
        status = self.instance.run(plan)
        return status if isinstance(status, int) and not isinstance(status, bool) else None

    def graceful_timeout(self, plan: Plan) -> float | None:
        seconds = self._ask("graceful_timeout", plan)
        number = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
        if seconds is not None and not number:
            self._wrong_answer("graceful_timeout", "a number of seconds or None", seconds)
        return seconds  # type: ignore[no-any-return]  # bounded where every plan is checked

    def listen_address(self, plan: Plan) -> Address | None:
        address = self._ask("listen_address", plan)
        if address is not None and not isinstance(address, Address):
            self._wrong_answer("listen_address", "an Address or None", address)
        return address

    def warms_up(self, plan: Plan) -> bool:
        answer = self._ask("warms_up", plan)
        if not isinstance(answer, bool):
            self._wrong_answer("warms_up", "True or False", answer)
        return answer

    def probe(self, plan: Plan) -> str | None:
        seen = self._ask("probe", plan)
        if seen is not None and not isinstance(seen, str):
            self._wrong_answer("probe", "a sentence or None", seen)
        return seen

    def environment_beside(self, others: Sequence[Backend]) -> Mapping[str, str]:
        env = self._ask("environment_beside", others)
        if not isinstance(env, Mapping) or not all(
            isinstance(name, str) and isinstance(value, str) for name, value in env.items()
        ):
            self._wrong_answer("environment_beside", "a dict of strings", env)
        return env

    def _ask(self, method: str, argument: Any) -> Any:
        """The instance's `method(argument)`, else `Backend`'s default answer."""
        own = getattr(self.instance, method, None)
        if own is None:
            return getattr(super(), method)(argument)
        return call_backend(self.spec, f"answer {method}()", lambda: own(argument))

    def _wrong_answer(self, method: str, expected: str, got: object) -> NoReturn:
        raise BackendFailure(
            f"Process '{self.name}': BACKEND '{self.spec.backend}'.{method}() must return "
            f"{expected}, got {shown(got)}."
        )
