"""Full-text search over inquiries: one search document per inquiry, on SQLite and PostgreSQL.

What is indexed: the reference number, the subject, every message body (inbound, replies and
internal notes: staff search their notes too), the stakeholder's name and email address, the
organisation name as the stakeholder typed it and the name of the matched organisation.

Accents, case and punctuation are dealt with in Python, the same way for documents and
queries, on both databases: text is case-folded, decomposed (NFKD), stripped of combining
marks ("réunion" -> "reunion"), the ligatures œ and æ are spelt out ("sœur" -> "soeur"), and
it is cut into words of letters and digits. The database receives only these folded words
separated by spaces, so that both databases see the same words and a query matches the same
inquiries on either. Doing it in Python rather than with PostgreSQL's ``unaccent`` needs no
extension (managed databases do not always let the application create one) and keeps one
definition of a word for both databases.

- SQLite: an FTS5 table ``fts_inquiries(document)`` whose rowid is the inquiry id, with
  ``tokenize='unicode61 remove_diacritics 2'`` (a second guard: it folds accents too).
  A trigger removes the document when its inquiry is deleted; searches also join
  ``inquiries``, so a document left behind (should a later batch migration rebuilding
  ``inquiries`` on SQLite drop the trigger) is never returned.
- PostgreSQL: a table ``fts_inquiries(inquiry_id, document tsvector)`` with a GIN index, built
  with the ``simple`` configuration (no stemming, no stop words: "de", "la", "inquiries" are
  words like others); its foreign key cascades deletions.

Both tables are created by migration 0004 only (they are kept out of the models' metadata;
``migrations/env.py`` ignores tables named ``fts_*`` when comparing).

Queries: words are ANDed; "quoted text" is a phrase; a word that contains punctuation
(``farida@example.net``, ``INQ-2026-000123``, ``l'école``) is the phrase of its parts; FTS5 and
tsquery operators typed by the user (``AND``, ``OR``, ``NOT``, ``-``, ``*``, parentheses, quotes)
are plain text, never syntax. Everything reaches the database as bound parameters.

Order: newest first by inquiry id. Ids are allocated as inquiries arrive, so this is the order
of receipt (an inquiry imported with an older ``received_at`` still sorts by arrival). The next
page is a keyset on the last id. Relevance ranking was left out: every match would have to be
ranked before the first page could be shown, and no keyset could page it. SQLite: FTS5 hands
rowids over in descending order and stops at the page size, whatever the number of matches.
PostgreSQL: a GIN index cannot give matches in order, so ``_postgresql_ids`` picks, per query,
between the GIN index (all matches, then the newest: cheap for a rare term) and a walk down the
primary key testing each document (cheap for a common term). The worst case is a term in about
1 % of a million inquiries, where both cost some thousands of rows; keep ``limit`` to a page.

Indexed text lives outside the inquiry: when a contact's name or email, or an organisation's
name, changes, re-index that contact's or organisation's inquiries with ``index_inquiries``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.models import Inquiry

TABLE = "fts_inquiries"
# Beyond this many characters of folded text a thread's tail is not indexed (it keeps a
# PostgreSQL tsvector far below its 1 MB limit); the first 100,000 characters are plenty to find it.
MAX_DOCUMENT_CHARS = 100_000
# Longer "words" are encoded data (base64, hashes), not something anyone types.
MAX_WORD_CHARS = 100
# A query of more words than this is cut: nobody types it, and it would only cost time.
MAX_QUERY_WORDS = 32
BATCH_SIZE = 500
# INQ-2026-000123, inq 2026 123, #123, 000123: a reference number, or only its number.
_REFERENCE = re.compile(r"^#?\s*(?:INQ[\s-]*(\d{4})[\s-]*)?(\d{1,10})$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,253}\.[^@\s\x00-\x1f\x7f]{1,63}$")
_WORD = re.compile(r"[^\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_MAX_ID = 2**31 - 1


# ---------------------------------------------------------------------------------------------
# Folding text into words (keep in step with migrations/versions/0004_inquiry_search.py)


def fold(value: str) -> str:
    """Lower case without accents: "Réunion à l'ŒUVRE" -> "reunion a l'oeuvre"."""
    value = value.translate(_LIGATURES).casefold()
    if value.isascii():
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def words(value: str) -> list[str]:
    """The searchable words of some text, folded."""
    return [word for word in _WORD.findall(fold(value)) if len(word) <= MAX_WORD_CHARS]


def document_text(inquiry: Inquiry) -> str:
    """The folded words an inquiry is found by, separated by spaces (none for a purged one)."""
    if inquiry.purged_at is not None:
        return ""
    parts = [
        inquiry.reference or "",
        inquiry.subject or "",
        inquiry.contact.name if inquiry.contact else "",
        inquiry.contact.email if inquiry.contact else "",
        inquiry.organisation_name or "",
        inquiry.organisation.name if inquiry.organisation else "",
        *(message.body or "" for message in inquiry.messages),
    ]
    return _join_words(parts)


def _join_words(parts: Iterable[str]) -> str:
    document = " ".join(word for part in parts for word in words(part))
    if len(document) > MAX_DOCUMENT_CHARS:
        document = document[:MAX_DOCUMENT_CHARS].rsplit(" ", 1)[0]
    return document


def parse_query(query: str) -> list[list[str]]:
    """The terms of a query, each a list of words that must follow each other (a phrase).

    Quoted text is one term; outside quotes each space-separated chunk is one term (so
    ``farida@example.net`` is the phrase "farida example net"); an unclosed quote runs to the
    end. Terms without words (``*``, ``-``, ``(``) vanish.
    """
    terms: list[list[str]] = []
    for index, segment in enumerate(query.split('"')):
        chunks = [segment] if index % 2 else segment.split()
        for chunk in chunks:
            chunk_words = words(chunk)
            if chunk_words:
                terms.append(chunk_words)
    budget = MAX_QUERY_WORDS
    kept: list[list[str]] = []
    for term in terms:
        if budget <= 0:
            break
        kept.append(term[:budget])
        budget -= len(term)
    return kept


# ---------------------------------------------------------------------------------------------
# Writing the index (in the caller's transaction)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


_UPSERT_POSTGRESQL = text(
    f"INSERT INTO {TABLE} (inquiry_id, document) VALUES (:id, to_tsvector('simple', :document)) "  # noqa: S608
    "ON CONFLICT (inquiry_id) DO UPDATE SET document = excluded.document"
)
_DELETE_SQLITE = text(f"DELETE FROM {TABLE} WHERE rowid = :id")  # noqa: S608
_INSERT_SQLITE = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :document)")  # noqa: S608


def _write(rows: Sequence[dict[str, object]]) -> None:
    if not rows:
        return
    if _dialect() == "postgresql":
        db.session.execute(_UPSERT_POSTGRESQL, rows)
    else:
        db.session.execute(_DELETE_SQLITE, [{"id": row["id"]} for row in rows])
        db.session.execute(_INSERT_SQLITE, rows)


def index_inquiry(inquiry: Inquiry) -> None:
    """Insert or replace the search document of one inquiry, in the caller's transaction.

    Call it after every change to indexed text: a new message or note, a subject, the
    stakeholder or organisation, a merge (both inquiries).
    """
    if inquiry.id is None:
        db.session.flush()
    _write([{"id": inquiry.id, "document": document_text(inquiry)}])


def index_inquiries(ids: Iterable[int]) -> int:
    """(Re)index many inquiries by id, in batches; ids of missing inquiries are skipped. Returns how many."""
    ids = list(dict.fromkeys(ids))
    done = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start:start + BATCH_SIZE]
        inquiries = _created_here(batch) or db.session.scalars(
            select(Inquiry).where(Inquiry.id.in_(batch)).options(
                selectinload(Inquiry.messages), selectinload(Inquiry.contact), selectinload(Inquiry.organisation)
            )
        ).all()
        _write([{"id": inquiry.id, "document": document_text(inquiry)} for inquiry in inquiries])
        done += len(inquiries)
    return done


_CREATED = "search_inquiries_created"  # in Session.info: inquiries inserted in the open transaction
_READ = frozenset({"reference", "subject", "organisation_name", "purged_at", "contact", "organisation", "messages"})


def _created_here(batch: list[int]) -> list[Inquiry] | None:
    """The inquiries of ``batch`` when each was created in this transaction and holds all the document reads.

    A new inquiry's messages, contact and organisation are the ones it was built with (they are
    always added through its relationships), so reading them back (three queries) would only
    repeat what the session holds: the public form's every submission saves them.
    """
    created: dict[int, Inquiry] = db.session.info.get(_CREATED, {})
    found = [created.get(inquiry_id) for inquiry_id in batch]
    if not all(inquiry is not None and not (_READ & (inspect(inquiry).unloaded | inspect(inquiry).expired_attributes))
               for inquiry in found):
        return None
    return [inquiry for inquiry in found if inquiry is not None]


# Columns the document reads that the database leaves NULL when an insert does not name them.
_NULL_UNLESS_SET = tuple(column.key for column in Inquiry.__table__.columns
                         if column.key in _READ and column.server_default is None and column.default is None)


@event.listens_for(Session, "after_flush")
def _note_created(session: Session, flush_context: Any) -> None:
    for instance in session.new:
        if isinstance(instance, Inquiry):
            state = inspect(instance)
            for key in _NULL_UNLESS_SET:
                if key in state.unloaded:
                    set_committed_value(instance, key, None)  # what the insert left in the row
            session.info.setdefault(_CREATED, {})[instance.id] = instance


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_created(session: Session) -> None:
    session.info.pop(_CREATED, None)


def remove_inquiry(inquiry_id: int) -> None:
    """Drop an inquiry's document (deleting the inquiry does it by itself)."""
    column = "inquiry_id" if _dialect() == "postgresql" else "rowid"
    db.session.execute(text(f"DELETE FROM {TABLE} WHERE {column} = :id"), {"id": inquiry_id})  # noqa: S608


# ---------------------------------------------------------------------------------------------
# Searching


def search_ids(query: str, *, limit: int, after: tuple[Any, ...] | None = None) -> list[int]:
    """Ids of the inquiries matching every term of ``query``, newest first (by id).

    ``after`` is the keyset of the last row of the previous page: ``(id,)``; a ``(received_at,
    id)`` pair is accepted too, and only its id is used. A query without words matches nothing.
    """
    terms = parse_query(query)
    if not terms or limit <= 0:
        return []
    after_id = int(after[-1]) if after else None
    if _dialect() == "postgresql":
        return _postgresql_ids(terms, limit, after_id)
    # Each term is an FTS5 string ("a b" is a phrase; strings side by side are ANDed). Words are
    # letters and digits only, so no quote or operator can reach the FTS5 syntax. FTS5 hands
    # rowids over in descending order and stops at the limit: no sort of the matches.
    params: dict[str, object] = {"match": " ".join('"' + " ".join(term) + '"' for term in terms), "limit": limit}
    keyset = ""
    if after_id is not None:
        params["after"] = after_id
        keyset = f" AND {TABLE}.rowid < :after"
    sql = (f"SELECT {TABLE}.rowid FROM {TABLE} JOIN inquiries ON inquiries.id = {TABLE}.rowid "  # noqa: S608
           f"WHERE {TABLE} MATCH :match{keyset} ORDER BY {TABLE}.rowid DESC LIMIT :limit")
    return list(db.session.scalars(text(sql), params))


# Measured on PostgreSQL 15: testing one row while walking the primary key backwards costs
# about as much as fetching and sorting one match found through the GIN index (1 : 1.25).
_WALK_ROW_COST = 1.0
_GIN_MATCH_COST = 1.25


def _postgresql_ids(terms: list[list[str]], limit: int, after_id: int | None) -> list[int]:
    """The newest matches, by the cheaper of two plans, chosen from the planner's estimate.

    A GIN index finds every match but not the newest ones first: through it, a page costs
    in proportion to the number of matches, which is cheap for a rare word and ruinous for a
    common one. Walking the primary key backwards and testing each document costs in
    proportion to how far one walks before ``limit`` matches turn up: cheap for a common word,
    a scan of the whole table for a word that is nowhere. The planner cannot see how much
    testing a document costs and walks far too often, so the choice is made here, from its
    estimate of the number of matches (column statistics kept detailed by migration 0004).
    """
    params: dict[str, object] = {f"t{number}": " ".join(term) for number, term in enumerate(terms)}
    match = "document @@ (" + " && ".join(f"phraseto_tsquery('simple', :t{n})" for n in range(len(terms))) + ")"
    # One round trip for both estimates: the matches, and (second branch) every document.
    plan = db.session.scalar(text(f"EXPLAIN (FORMAT JSON) SELECT inquiry_id FROM {TABLE} WHERE {match} "  # noqa: S608
                                  f"UNION ALL SELECT inquiry_id FROM {TABLE}"), params)
    matches, documents = _estimated_rows(plan)
    # Through GIN: matches * cost; walking: (documents / matches * limit) rows * cost.
    through_gin = matches * matches * _GIN_MATCH_COST <= limit * documents * _WALK_ROW_COST
    params["limit"] = limit
    below = ""
    if after_id is not None:
        params["after"] = after_id
        below = " AND inquiry_id < :after"
    if through_gin:
        sql = (f"WITH hits AS MATERIALIZED (SELECT inquiry_id FROM {TABLE} WHERE {match}{below}) "  # noqa: S608
               "SELECT inquiry_id FROM hits ORDER BY inquiry_id DESC LIMIT :limit")
    else:
        # OFFSET 0 keeps the planner from turning the walk back into a plan of its own.
        sql = (f"SELECT inquiry_id FROM (SELECT inquiry_id, document FROM {TABLE} WHERE true{below} "  # noqa: S608
               f"ORDER BY inquiry_id DESC OFFSET 0) AS newest WHERE {match} ORDER BY inquiry_id DESC LIMIT :limit")
    return list(db.session.scalars(text(sql), params))


def _estimated_rows(plan: Any) -> tuple[float, float]:
    """(matches, documents) from the plan of the two-branch query; (1, 1) if it has another shape."""
    try:
        if isinstance(plan, str):
            plan = json.loads(plan)
        branches = plan[0]["Plan"]["Plans"]
        matches = max(float(branches[0]["Plan Rows"]), 1.0)
        return matches, max(float(branches[1]["Plan Rows"]), matches)
    except (KeyError, IndexError, TypeError, ValueError):
        return 1.0, 1.0  # the GIN index: never a walk over an unknown number of documents


def contact_id_for_email(email: str) -> int | None:
    """The contact who writes from this address, if any (addresses are kept in lower case)."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        return None
    return db.session.scalar(select(Contact.id).where(Contact.email == email))


def exact_match(query: str, *, readable: Any = None) -> int | None:
    """The one inquiry a typed reference number or email address points to, else None.

    A reference (``INQ-2026-000123``, any case, or just ``123`` / ``000123``) gives that
    inquiry if it exists. An email address gives the stakeholder's inquiry when they have
    exactly one; with several, None: filter by stakeholder (``contact_id_for_email``) instead.
    ``readable`` (need-to-know, ``access.Reader.content_condition``) limits what an address finds:
    a reference is metadata, an address is content.
    """
    query = query.strip()
    reference = _REFERENCE.match(query)
    if reference:
        year, number = reference.groups()
        inquiry_id = int(number)
        if not 0 < inquiry_id <= _MAX_ID:
            return None
        row = db.session.execute(select(Inquiry.id, Inquiry.reference).where(Inquiry.id == inquiry_id)).first()
        if row is None or (year and not (row.reference or "").startswith(f"INQ-{year}-")):
            return None
        return int(row.id)
    contact_id = contact_id_for_email(query)
    if contact_id is None:
        return None
    query_ids = select(Inquiry.id).where(Inquiry.contact_id == contact_id)
    if readable is not None:
        query_ids = query_ids.where(readable)
    ids = db.session.scalars(query_ids.limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def indexed_count() -> int:
    """How many search documents there are (for checks and the CLI)."""
    return db.session.scalar(text(f"SELECT count(*) FROM {TABLE}")) or 0  # noqa: S608
