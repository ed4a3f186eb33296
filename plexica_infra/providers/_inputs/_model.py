"""`ProviderInputs`: a dynamic resource's inputs, declared once as a pydantic model.

From the fields come every use of the list: the props a resource's constructor sends
(defaults filled in, output placeholders added), the defaults `check()` hands on, the
problems it reports (an unknown key or an invalid value: one line naming the resource,
the key and what is accepted), the comparable form `diff` uses, the validated spec the
CRUD methods work from and the inputs echoed as outputs (secrets never among them).

During a preview some inputs are unknown (they come from resources not created yet);
those are skipped, and only what is known is judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from plexica_infra.providers._exceptions import CoreApiConfigError
from plexica_infra.providers._props import PROVIDER_KEY, SECRET_KEYS, contains_unknown, plain

__all__ = ["Problem", "ProviderInputs", "raise_input_problems"]

#: (input name, reason): `check()` reports each as a Pulumi CheckFailure, the CRUD
#: methods raise them together as one CoreApiConfigError.
Problem = tuple[str, str]
_ADAPTERS: dict[tuple[type[BaseModel], str], TypeAdapter[Any]] = {}


class ProviderInputs(BaseModel):
    """The base of every inputs model; subclasses declare fields and their cross-field rules."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: The resource's name in messages (`PluginRegistration`).
    RESOURCE: ClassVar[str] = ""
    #: Output properties the resource declares (sent as None so they become outputs).
    OUTPUTS: ClassVar[tuple[str, ...]] = ()
    #: Inputs that never cause a diff of this resource.
    UNDIFFED: ClassVar[frozenset[str]] = frozenset()
    #: Defaults the constructor leaves to `check()`: resources created before the input
    #: existed were registered without it.
    UNSENT_DEFAULTS: ClassVar[frozenset[str]] = frozenset()

    # The single list ----------------------------------------------------------------------

    @classmethod
    def diff_keys(cls) -> tuple[str, ...]:
        """The inputs `diff` compares, in the order it reports them (never the secrets)."""
        return tuple(name for name in cls.model_fields if name not in SECRET_KEYS | cls.UNDIFFED)

    @classmethod
    def resource_props(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """What a resource's constructor registers for `given` keyword inputs."""
        unknown = sorted(set(given) - set(cls.model_fields))
        if unknown:
            raise TypeError(f"{cls.RESOURCE}: unknown input {unknown[0]!r}; accepted: {', '.join(cls.model_fields)}")
        props: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            if name in given:
                props[name] = given[name]
            elif field.is_required():
                raise TypeError(f"{cls.RESOURCE}: the input {name!r} is required")
            elif name not in cls.UNSENT_DEFAULTS:
                props[name] = field.get_default()
        return {**props, **dict.fromkeys(cls.OUTPUTS)}

    @classmethod
    def with_defaults(cls, props: Mapping[str, Any]) -> dict[str, Any]:
        """`props` with every missing (or null) input that has a default filled in."""
        filled = dict(props)
        for name, field in cls.model_fields.items():
            if filled.get(name) is None and not field.is_required() and name not in SECRET_KEYS:
                filled[name] = field.get_default()
        return filled

    def inputs(self) -> dict[str, Any]:
        """The validated inputs as stored in outputs: the secrets left out."""
        return self.model_dump(exclude=set(SECRET_KEYS))

    # Validation ----------------------------------------------------------------------------

    @classmethod
    def _adapter(cls, name: str) -> TypeAdapter[Any]:
        key = (cls, name)
        if key not in _ADAPTERS:
            field = cls.model_fields[name]
            kind: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            _ADAPTERS[key] = TypeAdapter(kind)
        return _ADAPTERS[key]

    @classmethod
    def _validate(cls, props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """The known inputs that are valid, and a problem for every one that is not."""
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, field in cls.model_fields.items():
            value = props.get(name)
            if value is None:
                if field.is_required():
                    problems.append((name, f"{name} is required"))
                continue
            if contains_unknown(value):
                continue
            try:
                values[name] = cls._adapter(name).validate_python(value)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ").replace("{key}", name)
                problems.append((name, reason if name in reason else f"{name}: {reason}"))
        return values, problems + cls.cross_problems(values, props)

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any], props: Mapping[str, Any]) -> list[Problem]:
        """Rules across inputs, over the `values` that are known and valid; override per resource."""
        return []

    @classmethod
    def problems(cls, props: Mapping[str, Any], *, unknown_keys: bool = False) -> list[Problem]:
        """Every problem of `props` (plain values); with `unknown_keys`, inputs it does not take too."""
        found = cls._validate(props)[1]
        if unknown_keys:
            accepted = ", ".join(cls.model_fields)
            found += [
                (key, f"{cls.RESOURCE} has no input {key!r}; accepted: {accepted}")
                for key in props
                if key not in cls.model_fields and key != PROVIDER_KEY
            ]
        return found

    @classmethod
    def from_props(cls, props: Mapping[str, Any], step: str) -> Self:
        """The validated inputs of a CRUD call; every problem at once as one CoreApiConfigError."""
        props = cls.with_defaults(plain(props))
        values, problems = cls._validate(props)
        raise_input_problems(props, problems, step)
        return cls.model_validate(values)

    @classmethod
    def normalize(cls, key: str, value: Any) -> Any:
        """The comparable form of an input for `diff`: defaults applied, values validated."""
        field = cls.model_fields.get(key)
        if field is None:
            return value
        if value is None or value == "":
            value = None if field.is_required() else field.get_default()
        if value is None or contains_unknown(value):
            return value
        try:
            return cls._adapter(key).validate_python(value)
        except ValidationError:
            return value


def raise_input_problems(props: Mapping[str, Any], problems: list[Problem], step: str) -> None:
    """Raise every problem at once, as one CoreApiConfigError naming the plugin and the step."""
    if problems:
        plugin_id = str(props.get("plugin_id", "?"))
        raise CoreApiConfigError(
            f"{plugin_id}: {step}: " + "; ".join(reason for _, reason in problems),
            plugin_id=plugin_id,
            step=step,
        )
