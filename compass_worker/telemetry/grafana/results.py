"""A tool result that keeps *no data* apart from *error* (they mean different things as evidence)."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Data(BaseModel, Generic[T]):
    """The query ran and returned something."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["data"] = "data"
    value: T


class NoData(BaseModel):
    """The query ran and returned nothing; ``hints`` are the server's suggestions, if any."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["no_data"] = "no_data"
    reason: str
    hints: tuple[str, ...] = ()


class Failed(BaseModel):
    """The query did not run (bad query, unknown datasource, timeout, server down, odd output)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["failed"] = "failed"
    error: str


Result = Annotated[Union[Data[T], NoData, Failed], Field(discriminator="kind")]  # noqa: UP007
