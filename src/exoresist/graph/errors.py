"""Errors raised by the graph stage."""

from __future__ import annotations


class GraphError(ValueError):
    """Base class of the graph stage's user-facing errors."""


class UnknownFormatError(GraphError):
    """An export or figure format that no registered writer handles."""

    def __init__(self, fmt: str, choices: list[str]) -> None:
        self.fmt = fmt
        self.choices = choices
        super().__init__(f"unknown format '{fmt}': choose one of {', '.join(choices)}")


class UnsupportedFeatureError(GraphError):
    """The graph holds something the chosen export format cannot express."""

    def __init__(self, fmt: str, feature: str) -> None:
        self.fmt = fmt
        self.feature = feature
        super().__init__(f"{fmt} cannot express {feature}")


class NoRouteError(GraphError):
    """Known names, but the graph holds no route between them (an answer, reported as an error
    so that a query never looks like an empty success)."""
