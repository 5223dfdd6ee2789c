"""Full-text search over inquiries (inquiries/search.py), on SQLite FTS5 and PostgreSQL tsvector."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import search, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry, Message, MessageKind
from inquiry_desk.intake import services as intake

from ..conftest import PROJECT_DIR, is_postgres
from ..helpers import edit, make_inquiry, make_organisation, make_user

HOSTILE = [
    '"', '""', '"""', "AND (", "(", ")", "*", "-foo", "foo*", "^foo", "NOT", "OR", "AND", "a OR b", "a AND NOT b",
    "NEAR(a b)", "NEAR(a b, 2)", "document:foo", "{document}: foo", "foo + bar", "'", "''", "\\", "%", "_",
    "'); DROP TABLE inquiries; --", "\x00", "&|!<->:*", "foo <-> bar", "!foo", "foo:*", "@@", "🙂", "   ", "",
    "\"unterminated phrase", "a" * 5000, "word " * 500, "ﷺ", "İstanbul", "ǅ", "a\x00@b.example", "a@b\x00.example",
]


def _submit(*, name: str = "Farida Rahimi", email: str = "farida@example.net", subject: str = "A question",
            body: str = "Body of the question", organisation: str | None = None, language: str = "en") -> Inquiry:
    submission = intake.Submission(
        name=name, email=email, subject=subject, message=body, language=language,
        topic=inquiries.topic_by_code("other"), organisation=organisation,
    )
    inquiry = intake.submit_inquiry(submission, now=utcnow())
    db.session.commit()
    return inquiry


def _ids(query: str, limit: int = 50) -> list[int]:
    return search.search_ids(query, limit=limit)


def _add_message(inquiry: Inquiry, kind: MessageKind, body: str) -> None:
    inquiry.messages.append(Message(kind=kind.value, body=body, created_at=utcnow()))
    search.index_inquiry(inquiry)
    db.session.commit()


def test_finds_by_subject_and_by_message_body(app) -> None:
    first = make_inquiry(subject="Timeline for sponsorship", body="We submitted in March")
    second = make_inquiry(subject="Travel loans", body="Questions about the repayment schedule")
    assert _ids("sponsorship") == [first.id]
    assert _ids("repayment") == [second.id]
    assert _ids("MARCH") == [first.id]
    assert _ids("nothinglikethis") == []


def test_finds_replies_and_internal_notes(app) -> None:
    inquiry = make_inquiry()
    _add_message(inquiry, MessageKind.NOTE, "Checked with the Halifax office")
    _add_message(inquiry, MessageKind.REPLY, "Your file is complete")
    assert _ids("halifax") == [inquiry.id]
    assert _ids("complete") == [inquiry.id]


def test_finds_by_requester_name_and_email(app) -> None:
    inquiry = _submit(name="Zarmina Haidari", email="zarmina.h@refuge-aid.ca")
    other = _submit(name="Paul Martin", email="paul@example.org")
    assert _ids("Zarmina") == [inquiry.id]
    assert _ids("haidari zarmina") == [inquiry.id]
    assert _ids("zarmina.h@refuge-aid.ca") == [inquiry.id]
    assert _ids("ZARMINA.H@REFUGE-AID.CA") == [inquiry.id]
    assert _ids("refuge-aid.ca") == [inquiry.id]
    assert _ids("paul@example.org") == [other.id]


def test_finds_by_organisation_typed_and_matched(app) -> None:
    typed = _submit(email="a@example.net", organisation="Community Sponsors of Halifax")
    make_organisation("Aman Lara", domains=("amanlara.org",))
    matched = _submit(email="nadia@amanlara.org", organisation="AL")
    assert matched.organisation is not None
    assert _ids("community sponsors") == [typed.id]
    assert _ids("aman") == [matched.id]
    assert _ids('"aman lara"') == [matched.id]


def test_finds_by_reference_in_any_case(app) -> None:
    inquiry = make_inquiry()
    make_inquiry()
    assert inquiry.reference
    assert _ids(inquiry.reference) == [inquiry.id]
    assert _ids(inquiry.reference.lower()) == [inquiry.id]
    assert _ids(inquiry.reference.split("-")[-1]) == [inquiry.id]


def test_french_with_and_without_accents_both_ways(app) -> None:
    accented = make_inquiry(subject="Réunion d'information", body="Une séance à l'École Saint-Édouard; ma sœur",
                            language="fr")
    plain = make_inquiry(subject="Reunion de suivi", body="Seance prevue a l'ecole; ma soeur", language="fr")
    both = sorted([accented.id, plain.id], reverse=True)
    for query in ("reunion", "réunion", "RÉUNION", "Reunion", "seance", "séance", "école", "ecole",
                  "soeur", "sœur", "SŒUR"):
        assert _ids(query) == both, query
    assert _ids("edouard") == [accented.id]
    assert _ids("Édouard") == [accented.id]
    assert _ids("saint-édouard") == [accented.id]
    assert _ids('"l\'école"') == both


def test_words_are_anded(app) -> None:
    both = make_inquiry(subject="Housing and employment", body="…")
    housing = make_inquiry(subject="Housing only", body="…")
    make_inquiry(subject="Employment only", body="…")
    assert _ids("housing employment") == [both.id]
    assert _ids("housing") == [housing.id, both.id]
    assert _ids("housing nowhereword") == []


def test_quoted_phrases_match_as_phrases(app) -> None:
    phrase = make_inquiry(subject="Private sponsorship timeline", body="…")
    scattered = make_inquiry(subject="Sponsorship for a private group", body="…")
    assert _ids('"private sponsorship"') == [phrase.id]
    assert _ids("private sponsorship") == [scattered.id, phrase.id]
    assert _ids('"private sponsorship" timeline') == [phrase.id]
    assert _ids('"sponsorship private"') == []
    assert _ids('"private sponsorship') == [phrase.id]  # an unclosed quote runs to the end


def test_hostile_input_never_breaks_the_query(app) -> None:
    inquiry = make_inquiry(subject="document foo bar and not or near a b", body="…")
    for query in HOSTILE:
        assert isinstance(_ids(query), list), query
        assert isinstance(search.exact_match(query), int | None), query
    assert _ids("-foo") == [inquiry.id]  # a minus is not an operator: the word is still looked for
    assert _ids("foo*") == [inquiry.id]
    assert _ids("AND (") == [inquiry.id]  # "and" is a word of the subject
    assert _ids("a OR b") == [inquiry.id]
    assert _ids("NEAR(a b)") == [inquiry.id]
    assert _ids("document:foo") == [inquiry.id]
    assert _ids("*") == []
    assert _ids('"') == []
    assert _ids("'); DROP TABLE inquiries; --") == []
    assert db.session.scalar(select(Inquiry.id)) == inquiry.id


def test_intake_indexes_new_inquiries_and_follow_ups(app) -> None:
    inquiry = make_inquiry(body="First words")
    assert _ids("first") == [inquiry.id]
    intake.reply_from_portal(inquiry, "Additional documents attached", now=utcnow())
    db.session.commit()
    assert _ids("additional documents") == [inquiry.id]


def test_an_updated_inquiry_is_reindexed(app) -> None:
    inquiry = make_inquiry(subject="Old subject line")
    edit(inquiry, subject="Renamed entirely")
    search.index_inquiry(inquiry)
    db.session.commit()
    assert _ids("old") == []
    assert _ids("renamed") == [inquiry.id]
    assert search.indexed_count() == 1


def test_bulk_indexing(app) -> None:
    first = make_inquiry(subject="Alpha")
    second = make_inquiry(subject="Beta")
    edit(first, subject="Gamma")
    edit(second, subject="Delta")
    db.session.flush()
    assert search.index_inquiries([first.id, second.id, second.id, 999_999]) == 2
    db.session.commit()
    assert _ids("gamma") == [first.id]
    assert _ids("delta") == [second.id]
    assert _ids("alpha") == _ids("beta") == []


def test_removal_and_deletion(app) -> None:
    removed = make_inquiry(subject="Common word")
    deleted = make_inquiry(subject="Common word")
    kept = make_inquiry(subject="Common word")
    search.remove_inquiry(removed.id)
    db.session.delete(deleted)
    db.session.commit()
    assert _ids("common") == [kept.id]
    assert search.indexed_count() == 1  # the deleted inquiry's document went with it


def test_keyset_pages_newest_first(app) -> None:
    made = [make_inquiry(subject=f"Paged inquiry {n}").id for n in range(5)]
    newest_first = sorted(made, reverse=True)
    assert _ids("paged") == newest_first
    first = search.search_ids("paged", limit=2)
    second = search.search_ids("paged", limit=2, after=(first[-1],))
    last_inquiry = db.session.get(Inquiry, second[-1])
    third = search.search_ids("paged", limit=2, after=(last_inquiry.received_at, last_inquiry.id))
    assert first + second + third == newest_first
    assert search.search_ids("paged", limit=2, after=(third[-1],)) == []
    assert search.search_ids("paged", limit=0) == []


@pytest.mark.skipif(not is_postgres(), reason="PostgreSQL chooses between two plans")
@pytest.mark.parametrize("plan", ["gin", "walk"])
def test_both_postgresql_plans_give_the_same_answers(app, monkeypatch: pytest.MonkeyPatch, plan: str) -> None:
    monkeypatch.setattr(search, "_GIN_MATCH_COST", 0.0 if plan == "gin" else 1e12)
    made = [make_inquiry(subject=f"Private sponsorship {n}", body="réunion").id for n in range(5)]
    scattered = make_inquiry(subject="Sponsorship for a private group").id
    newest_first = sorted(made, reverse=True)
    assert _ids('"private sponsorship" reunion') == newest_first
    assert _ids("private sponsorship") == [scattered, *newest_first]
    assert search.search_ids("reunion", limit=2, after=(made[3],)) == [made[2], made[1]]
    assert _ids("nowhere") == []


def test_exact_match_by_reference(app) -> None:
    inquiry = make_inquiry()
    make_inquiry()
    reference = inquiry.reference
    assert reference
    year = reference.split("-")[1]
    for typed in (reference, reference.lower(), f"  {reference} ", str(inquiry.id), f"{inquiry.id:06d}",
                  f"#{inquiry.id}", f"INQ-{year}-{inquiry.id}", f"inq {year} {inquiry.id:06d}"):
        assert search.exact_match(typed) == inquiry.id, typed
    assert search.exact_match(f"INQ-1999-{inquiry.id:06d}") is None  # the year must be the right one
    assert search.exact_match("INQ-2026-999999") is None
    assert search.exact_match("999999") is None
    assert search.exact_match("0") is None
    assert search.exact_match("99999999999999") is None
    assert search.exact_match("housing") is None


def test_exact_match_by_email(app) -> None:
    single = _submit(email="one@example.net")
    _submit(email="two@example.net")
    _submit(email="two@example.net")
    assert search.exact_match("one@example.net") == single.id
    assert search.exact_match(" ONE@Example.NET ") == single.id
    assert search.exact_match("two@example.net") is None  # several: filter by stakeholder instead
    assert search.exact_match("nobody@example.net") is None
    two = db.session.scalar(select(Contact.id).where(Contact.email == "two@example.net"))
    assert search.contact_id_for_email("Two@Example.net") == two
    assert search.contact_id_for_email("nobody@example.net") is None
    assert search.contact_id_for_email("not an email") is None


def test_a_long_thread_is_indexed_up_to_the_cap(app) -> None:
    words = [f"w{n}x" for n in range(60_000)]  # ~420,000 characters of distinct words, in notes of 20,000 at most
    inquiry = make_inquiry(subject="Very long thread", body=" ".join(words[:2500]))
    officer = make_user(role="officer")
    for start in range(2500, 60_000, 2500):
        triage.add_note(inquiry, " ".join(words[start:start + 2500]), actor=officer, now=utcnow())
    db.session.commit()
    assert _ids("w10x") == [inquiry.id]
    assert _ids("w59999x") == []  # beyond the cap
    assert len(search.document_text(inquiry)) <= search.MAX_DOCUMENT_CHARS


def test_parse_query() -> None:
    assert search.parse_query('Réunion "l\'école Saint" farida@example.net -x *') == [
        ["reunion"], ["l", "ecole", "saint"], ["farida", "example", "net"], ["x"],
    ]
    assert search.parse_query("") == search.parse_query('" "') == []
    assert sum(len(term) for term in search.parse_query("w " * 100)) == search.MAX_QUERY_WORDS


def test_the_migration_indexes_existing_inquiries(app) -> None:
    inquiry = _submit(name="Zarmina Haidari", subject="Réunion", organisation="Sponsors")
    _add_message(inquiry, MessageKind.NOTE, "Une note interne")
    expected = search.document_text(inquiry)
    inquiry_id = inquiry.id
    assert _ids("zarmina reunion sponsors note interne") == [inquiry_id]
    db.session.commit()
    db.session.remove()
    migrations = str(PROJECT_DIR / "migrations")
    downgrade(directory=migrations, revision="0003")
    upgrade(directory=migrations)
    assert _ids("zarmina reunion sponsors note interne") == [inquiry_id]
    inquiry = db.session.get(Inquiry, inquiry_id)
    assert search.document_text(inquiry) == expected
    search.index_inquiry(inquiry)  # the document the app writes replaces the migration's
    db.session.commit()
    assert search.indexed_count() == 1
