"""Each test builds an app, and Werkzeug compiles two URL builders (Python source, through ``compile``) for
each of the app's ~170 rules: about 0.09 s of CPU of the ~0.1 s that ``create_app`` costs. The builders of
one rule are the same in every app, so the test process compiles each once.

A builder is a pure function of the rule's text, its parsed parts (``_trace``) and its defaults; it reaches
the rule's converters through the ``self`` it is bound to, so a builder made for one app's rule serves the
same rule in another app. A rule whose default fills one of its own URL parts bakes the converter's output
into the builder: such rules are left to Werkzeug.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_BUILDERS: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _cached_compile_builder(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    defaults = self.defaults or {}
    if defaults and any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
        return _compile_builder(self, append_unknown)
    key = (self.rule, tuple(self._trace), tuple((str(k), repr(v)) for k, v in defaults.items()),
           append_unknown)
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _compile_builder(self, append_unknown)
    return builder


def compile_each_url_builder_once() -> None:
    Rule._compile_builder = _cached_compile_builder  # type: ignore[method-assign]
