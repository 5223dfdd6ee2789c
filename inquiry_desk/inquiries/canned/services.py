"""Canned responses: bilingual reply templates that leads manage and officers insert into replies.

A template may hold only plain variables (``{{ reference }}``), ``{% if variable %}`` …
``{% else %}`` … ``{% endif %}``, and a few text filters (``{{ requester_name|default("…", true) }}``).
That is checked when a template is saved, so that a mistake is refused with a message
naming it. Rendering then runs in a Jinja2 sandbox that also refuses every attribute,
item, call and operator, in case a stored template ever got past the check.

The result is plain text for an email body: nothing is HTML-escaped here; pages that
show it escape it as they show any text.

Functions take what they need (``actor``, ``now``) and leave the commit to the caller.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import has_control_characters
from inquiry_desk.inquiries.canned.models import CannedResponse
from inquiry_desk.inquiries.models import Inquiry

TITLE_MAX = 200  # the column's length
BODY_MAX = 10_000
LANGUAGES = ("en", "fr")
TITLE_FIELDS = ("title_en", "title_fr")
BODY_FIELDS = ("body_en", "body_fr")

# The variables a template may use, in the order the edit page lists them.
VARIABLES: tuple[str, ...] = ("requester_name", "reference", "officer_name", "subject", "organisation", "topic")
# Text filters that only reshape a string; everything else (attr, format, map…) is refused.
FILTERS: tuple[str, ...] = ("default", "upper", "lower", "capitalize", "title", "trim")
# The arguments each filter takes (constants only): ``upper(1)`` would pass a parse and fail at render.
FILTER_ARGUMENTS: dict[str, tuple[type, ...]] = {"default": (str, bool), "trim": (str,)}
# How deep the template's tree may go: a few {% if %} inside one another and a few filters.
MAX_NESTING = 30
# Template constructs beyond plain text and variables that are allowed.
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If, nodes.Not, nodes.Filter,
)


class CannedResponseError(DomainError):
    """Base of the domain errors raised here; views turn them into messages."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what was typed, for the view to put next to its field.

    ``code`` is one of: ``required``, ``too_long`` (``limit``), ``syntax`` (``line``),
    ``unknown_variable`` (``name``, ``line``), ``not_allowed`` (``line``), ``too_complex``,
    ``control_characters``.
    """

    field: str
    code: str
    line: int | None = None
    name: str | None = None
    limit: int | None = None


class InvalidCannedResponse(CannedResponseError):
    """What was typed cannot be saved; ``problems`` says why, field by field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(", ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = list(problems)


class CannedTemplateError(CannedResponseError):
    """A stored template could not be rendered (it would have been refused when saved)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.field}: {problem.code}")
        self.problem = problem


class _TooComplex(Exception):
    pass


class _CannedEnvironment(SandboxedEnvironment):
    """A sandbox in which values are opaque: no attribute, item, call or operator reaches Python."""

    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])
    intercepted_unops = frozenset(["+", "-"])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def getattr(self, obj: Any, attribute: str) -> Undefined:
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Undefined:
        return self.unsafe_undefined(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> NoReturn:
        raise SecurityError(f"the operator {operator!r} is not allowed in a canned response")

    def call_unop(self, context: Any, operator: str, arg: Any) -> NoReturn:
        raise SecurityError(f"the operator {operator!r} is not allowed in a canned response")


def _make_environment() -> SandboxedEnvironment:
    environment = _CannedEnvironment(
        autoescape=False,  # plain text for an email body; pages escape it when they show it
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters = {name: environment.filters[name] for name in FILTERS}
    environment.tests = {}
    environment.globals = {}
    return environment


_ENVIRONMENT = _make_environment()


def available_variables() -> tuple[str, ...]:
    """The variable names a template may use, for the edit page to list as ``{{ name }}``."""
    return VARIABLES


# --- Reading ---------------------------------------------------------------------------------

def _sort_key(text: str) -> str:
    """Alphabetical as a reader expects it: accents and case do not change the order."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def list_active(lang: str) -> list[CannedResponse]:
    """Active responses ordered by their title in ``lang``.

    Sorted here rather than in SQL so that the order is the same on SQLite and
    PostgreSQL whatever the collation; a team has dozens of these, not thousands.
    """
    responses = db.session.scalars(select(CannedResponse).where(CannedResponse.active.is_(True))).all()
    return sorted(responses, key=lambda response: (_sort_key(response.title(lang)), response.id))


def get(canned_id: int, *, active_only: bool = True) -> CannedResponse | None:
    response = db.session.get(CannedResponse, canned_id)
    if response is None or (active_only and not response.active):
        return None
    return response


# --- Validation ------------------------------------------------------------------------------

def _check_nodes(node: nodes.Node, field: str, problems: list[Problem], depth: int = 0) -> None:
    if depth > MAX_NESTING:
        raise _TooComplex()
    if not isinstance(node, _ALLOWED_NODES):
        problems.append(Problem(field, "not_allowed", line=node.lineno))
        return
    if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name not in VARIABLES):
        problems.append(Problem(field, "unknown_variable", line=node.lineno, name=node.name))
        return
    if isinstance(node, nodes.Filter) and (
        node.name not in FILTERS or node.kwargs or node.dyn_args or node.dyn_kwargs
        or not _arguments_fit(node.name, node.args)
    ):
        problems.append(Problem(field, "not_allowed", line=node.lineno))
        return
    for child in node.iter_child_nodes():
        _check_nodes(child, field, problems, depth + 1)


def _arguments_fit(name: str, arguments: list[nodes.Expr]) -> bool:
    """Constants, no more than the filter takes, each of the type it takes in that place."""
    allowed = FILTER_ARGUMENTS.get(name, ())
    return len(arguments) <= len(allowed) and all(
        isinstance(argument, nodes.Const) and type(argument.value) is kind
        for argument, kind in zip(arguments, allowed, strict=False))


def template_problems(text: str, field: str = "body_en") -> list[Problem]:
    """What is wrong with a template's placeholders (empty when it may be saved)."""
    problems: list[Problem] = []
    try:
        _check_nodes(_ENVIRONMENT.parse(text), field, problems)
        if not problems:
            _ENVIRONMENT.compile(text)  # what Python itself would refuse (too many nested blocks)
    except TemplateSyntaxError as exc:
        return [Problem(field, "syntax", line=exc.lineno)]
    except (_TooComplex, RecursionError, SyntaxError):  # dozens of nested {% if %}: refused, never a crash
        return [Problem(field, "too_complex")]
    return list(dict.fromkeys(problems))  # each mistake once, in order


def _clean(values: dict[str, str]) -> dict[str, str]:
    """Titles on one line; texts with plain newlines (a textarea sends CRLF); no spaces around either."""
    cleaned = {}
    for field, value in values.items():
        if field in TITLE_FIELDS:
            cleaned[field] = " ".join((value or "").split())
        else:
            cleaned[field] = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return cleaned


def validate(values: dict[str, str]) -> dict[str, str]:
    """Both languages' title and text, cleaned; raises InvalidCannedResponse with every problem found."""
    cleaned = _clean(values)
    problems: list[Problem] = []
    for field in (*TITLE_FIELDS, *BODY_FIELDS):
        value = cleaned.get(field, "")
        limit = TITLE_MAX if field in TITLE_FIELDS else BODY_MAX
        if not value:
            problems.append(Problem(field, "required"))
        elif has_control_characters(value, single_line=field in TITLE_FIELDS):
            problems.append(Problem(field, "control_characters"))
        elif len(value) > limit:
            problems.append(Problem(field, "too_long", limit=limit))
        elif field in BODY_FIELDS:
            problems.extend(template_problems(value, field))
    if problems:
        raise InvalidCannedResponse(problems)
    return cleaned


# --- Changes ---------------------------------------------------------------------------------

def create(
    *, title_en: str, title_fr: str, body_en: str, body_fr: str, actor: User | None, now: datetime,
) -> CannedResponse:
    values = validate({"title_en": title_en, "title_fr": title_fr, "body_en": body_en, "body_fr": body_fr})
    response = CannedResponse(**values, active=True, updated_at=now, updated_by_id=actor.id if actor else None)
    db.session.add(response)
    db.session.flush()
    audit.record(
        "canned_response.created",
        actor_id=actor.id if actor else None,
        subject_type="canned_response",
        subject_id=response.id,
        details={"title_en": response.title_en},
        now=now,
    )
    return response


def update(
    response: CannedResponse,
    *,
    title_en: str,
    title_fr: str,
    body_en: str,
    body_fr: str,
    actor: User,
    now: datetime,
) -> list[str]:
    """Save new text; returns the names of the fields that changed (none: nothing is written)."""
    if not response.active:
        raise CannedResponseError("a deactivated canned response cannot be changed")
    values = validate({"title_en": title_en, "title_fr": title_fr, "body_en": body_en, "body_fr": body_fr})
    changed = [field for field, value in values.items() if getattr(response, field) != value]
    if not changed:
        return []
    for field in changed:
        setattr(response, field, values[field])
    response.updated_at = now
    response.updated_by_id = actor.id
    audit.record(
        "canned_response.updated",
        actor_id=actor.id,
        subject_type="canned_response",
        subject_id=response.id,
        details={"changed": changed},
        now=now,
    )
    return changed


def deactivate(response: CannedResponse, *, actor: User, now: datetime) -> None:
    """Take it out of use (kept, not deleted). Deactivating twice writes nothing more."""
    if not response.active:
        return
    response.active = False
    response.updated_at = now
    response.updated_by_id = actor.id
    audit.record(
        "canned_response.deactivated",
        actor_id=actor.id,
        subject_type="canned_response",
        subject_id=response.id,
        details={"title_en": response.title_en},
        now=now,
    )


# --- Rendering -------------------------------------------------------------------------------

def variables_for(inquiry: Inquiry, officer: User, lang: str) -> dict[str, str]:
    """The value of each variable for one inquiry and the officer replying, as plain strings."""
    # A trusted partner's registered name wins over what the stakeholder typed.
    organisation = inquiry.organisation.name if inquiry.organisation is not None else inquiry.organisation_name
    return {
        "requester_name": inquiry.contact.name if inquiry.contact else "",
        "reference": inquiry.reference or "",
        "officer_name": officer.name,
        "subject": inquiry.subject,
        "organisation": organisation or "",
        "topic": inquiry.topic.name(lang) if inquiry.topic else "",
    }


def render_text(text: str, values: dict[str, str], field: str = "body_en") -> str:
    """Fill one template's variables; raises CannedTemplateError if it is not a valid template."""
    problems = template_problems(text, field)
    if problems:
        raise CannedTemplateError(problems[0])
    try:
        return _ENVIRONMENT.from_string(text).render({name: str(values.get(name, "")) for name in VARIABLES})
    except TemplateError as exc:  # the sandbox refused something the check let through
        raise CannedTemplateError(Problem(field, "not_allowed", line=getattr(exc, "lineno", None))) from exc
    except (RecursionError, SyntaxError) as exc:
        raise CannedTemplateError(Problem(field, "too_complex")) from exc
    except (TypeError, ValueError) as exc:  # a filter given what it cannot take: a message, never a 500
        raise CannedTemplateError(Problem(field, "not_allowed")) from exc


def render_canned(response: CannedResponse, lang: str, inquiry: Inquiry, officer: User) -> str:
    """The response's text in ``lang`` with the inquiry's and the officer's details filled in."""
    lang = lang if lang in LANGUAGES else "en"
    return render_text(response.body(lang), variables_for(inquiry, officer, lang), field=f"body_{lang}")
