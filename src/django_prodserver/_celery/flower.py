"""Flower's options, as Flower itself defines and converts them (tornado's options)."""

from __future__ import annotations

import copy
import os
from functools import cache
from typing import Any

from django_prodserver.errors import OptionError
from django_prodserver.options import parse_bool


@cache
def flower_definitions() -> dict[str, Any]:
    """Flower's options, as Flower defines them with tornado (`flower.options`).

    tornado's logging options are Flower's too. `format_task` takes a Python function:
    it can only be set in a `flowerconfig.py`.
    """
    import types

    import flower.options  # noqa: F401 - defines the options
    from tornado.options import options

    return {
        definition.name: definition
        for definition in options._options.values()
        if definition.name != "help" and definition.type is not types.FunctionType
    }


def convert_flower_value(definition: Any, text: str, process: str, what: str) -> Any:
    """`text` converted by Flower's definition of the option (tornado's parser)."""
    try:
        return copy.copy(definition).parse(text)
    except Exception as error:
        kind = definition.type.__name__ if definition.type else "a value"
        raise OptionError(
            f"Process '{process}': Flower's {what} takes {kind}"
            f"{' values separated by commas' if definition.multiple else ''}, "
            f"got '{text}' ({error})."
        ) from None


def flower_environment(process: str) -> dict[str, Any]:
    """`FLOWER_*` variables that Flower reads at start, converted as Flower does."""
    definitions = {name.upper(): d for name, d in flower_definitions().items()}
    values = {}
    for variable, text in os.environ.items():
        definition = definitions.get(variable.removeprefix("FLOWER_"))
        if not variable.startswith("FLOWER_") or definition is None:
            continue
        if definition.type is bool:
            values[definition.name] = parse_bool(text)
            if values[definition.name] is None:
                raise OptionError(
                    f"Process '{process}': ${variable} is True or False for Flower, got '{text}'."
                )
        else:
            values[definition.name] = convert_flower_value(
                definition, text, process, f"${variable}"
            )
    return values


# Flower 2.2 moved its checks of `auth` and `broker_api` into modules of their own; every
# Flower the `flower` extra allows (2.0 and later) has them somewhere.


def auth_option_is_valid(pattern: str) -> bool:
    """Whether Flower accepts `auth`, as Flower checks it when it starts."""
    try:
        from flower.utils.authentication import validate_auth_option  # Flower 2.2
    except ImportError:
        from flower.views.auth import validate_auth_option  # Flower 2.0, 2.1
    return bool(validate_auth_option(pattern))


def check_broker_api(url: str) -> None:
    """Raise ValueError when Flower would refuse `broker_api`."""
    from flower.utils import broker

    validate = getattr(broker, "validate_broker_api", None)  # Flower 2.2
    if validate is None:
        validate = broker.RabbitMQ.validate_http_api  # Flower 2.0, 2.1
    validate(url)
