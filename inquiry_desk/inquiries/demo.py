"""A few hundred believable demo inquiries, with threads, across topics and both languages.

The people are invented; the organisations are the public ones in directory/demo.py.
No email is queued for demo data.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Organisation
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Channel, Inquiry, Message, MessageKind, Priority, Status

DEMO_INQUIRY_COUNT = 300

# topic code -> [(language, subject, body)]
QUESTIONS: dict[str, list[tuple[str, str, str]]] = {
    "safe_passage": [
        ("en", "Safe passage for a family of five",
         "We are supporting a family of five who must cross a checkpoint next week. Can you confirm "
         "what documents they should carry and who to contact if they are stopped?"),
        ("fr", "Passage sécuritaire pour une famille",
         "Nous accompagnons une famille qui doit se rendre au point de passage la semaine prochaine. "
         "Quels documents doivent-ils avoir sur eux?"),
    ],
    "identity_confirmation": [
        ("en", "Identity confirmation for referred journalists",
         "Please confirm you received the identity documents for the three journalists we referred on "
         "Monday. One passport scan was blurry; should we send it again?"),
        ("fr", "Confirmation d'identité d'une personne recommandée",
         "Pouvez-vous confirmer la réception des pièces d'identité envoyées lundi? Une copie était floue."),
    ],
    "referral": [
        ("en", "How to refer an interpreter who worked with our mission",
         "An interpreter who worked with our mission for six years has asked for help. What is the "
         "referral process for partners like us, and what information do you need?"),
        ("fr", "Processus de recommandation",
         "Quel est le processus pour recommander une défenseure des droits de la personne en danger?"),
    ],
    "eligibility": [
        ("en", "Eligibility of extended family members",
         "Are adult siblings of a principal applicant eligible under the current measures, or only "
         "spouses and dependent children?"),
        ("fr", "Admissibilité des membres de la famille élargie",
         "Les frères et sœurs adultes du demandeur principal sont-ils admissibles aux mesures actuelles?"),
    ],
    "case_status": [
        ("en", "Status of application for the Hashimi family",
         "We submitted the application in March and have heard nothing since. Could you tell us where "
         "it stands?"),
        ("fr", "État du dossier de la famille Karimi",
         "Nous avons déposé la demande en mars et n'avons aucune nouvelle depuis. Où en est le dossier?"),
    ],
    "private_sponsorship": [
        ("en", "Group of Five: financial requirements",
         "Our group of five wants to sponsor a family of four. What is the minimum amount we need to show, "
         "and can in-kind support count?"),
        ("fr", "Parrainage privé : délais de traitement",
         "Notre groupe de parrainage attend depuis huit mois. Quels sont les délais actuels?"),
    ],
    "settlement_arrival": [
        ("en", "Arrival dates for the next flights",
         "Our agency needs to book temporary housing. Can you share the expected arrival dates and "
         "family sizes for the next two flights to Toronto?"),
        ("fr", "Arrivées prévues à Montréal",
         "Pouvez-vous nous indiquer les dates d'arrivée prévues afin que nous réservions les logements?"),
    ],
    "partnership_funding": [
        ("en", "Funding for language training",
         "We would like to propose a partnership for French and English language training for new "
         "arrivals. Who should we speak to about funding?"),
        ("fr", "Financement d'un projet d'accueil",
         "Nous souhaitons proposer un projet d'accueil en région. À qui devons-nous nous adresser?"),
    ],
    "media": [
        ("en", "Interview request about the resettlement commitment",
         "I am preparing a story on the resettlement commitment. Could someone from the team speak with "
         "me this week?"),
        ("fr", "Demande d'entrevue",
         "Je prépare un reportage sur l'engagement de réinstallation. Quelqu'un pourrait-il m'accorder "
         "une entrevue?"),
    ],
    "other": [
        ("en", "Updating our contact person",
         "Our organisation has a new contact person for refugee matters. How do we update your records?"),
        ("fr", "Changement de personne-ressource",
         "Notre organisme a une nouvelle personne-ressource. Comment mettre à jour vos dossiers?"),
    ],
}

REPLIES = {
    "en": "Thank you for your message. We have looked into this and will send details within two business days.",
    "fr": "Merci de votre message. Nous avons examiné la question et vous enverrons les détails d'ici deux "
          "jours ouvrables.",
}
NOTES = [
    "Checked with the operations unit: waiting for their answer.",
    "Possible duplicate of an earlier inquiry from the same sender.",
    "Sensitive: do not share names outside the team.",
]
FIRST_NAMES = ["Farida", "Omar", "Marie", "Sarah", "Ahmad", "Louise", "Zahra", "Jean", "Nadia", "Peter",
               "Mariam", "Hamid", "Claire", "Yusuf", "Anne", "Karim", "Leila", "David", "Sophie", "Bilal"]
LAST_NAMES = ["Rahimi", "Tremblay", "Haidari", "Wilson", "Côté", "Noori", "Gagnon", "Ahmadi", "Roy",
              "Stanekzai", "Martin", "Sadat", "Bouchard", "Karimi", "Lavoie"]
OPEN_DOMAINS = ["example.com", "example.net", "example.org"]


def _sender(rng: random.Random, trusted_domains: list[tuple[str, str]]) -> tuple[str, str, str | None]:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    local = name.lower().replace(" ", ".").replace("ô", "o")
    if trusted_domains and rng.random() < 0.55:
        organisation, domain = rng.choice(trusted_domains)
        return name, f"{local}@{domain}", organisation
    return name, f"{local}{rng.randint(1, 99)}@{rng.choice(OPEN_DOMAINS)}", rng.choice(
        [None, "Friends of Kabul Sponsorship Group", "Halifax Welcome Circle", "Groupe d'accueil de Sherbrooke"])


def seed_inquiries(now: datetime) -> list[str]:
    if db.session.scalar(select(func.count()).select_from(Inquiry)):
        return ["Inquiries: already there, none added."]
    rng = random.Random(2026)  # the same demo every time
    officers = db.session.scalars(select(User).where(User.role.in_([Role.OFFICER.value, Role.LEAD.value]))).all()
    trusted_domains = [(org.name, domain.domain) for org in _trusted_organisations() for domain in org.domains]
    topics = {topic.code: topic for topic in inquiries.active_topics()}
    for _number in range(DEMO_INQUIRY_COUNT):
        topic_code = rng.choice(list(QUESTIONS))
        language, subject, body = rng.choice(QUESTIONS[topic_code])
        name, email, organisation_name = _sender(rng, trusted_domains)
        received = now - timedelta(minutes=rng.randint(10, 90 * 24 * 60))
        trusted = directory.trusted_organisation_for(email)
        contact = directory.record_contact(email=email, name=name, language=language, now=received,
                                           organisation_name=organisation_name, organisation=trusted)
        inquiry = inquiries.create_inquiry(
            contact=contact, subject=subject, body=body, language=language,
            channel=rng.choice([Channel.WEB, Channel.WEB, Channel.EMAIL]), now=received, topic=topics.get(topic_code),
            organisation_name=organisation_name, trusted_organisation=trusted, address_confirmed=True,
            organisation_kind=trusted.kind if trusted else "other",
        )
        priority = rng.choice([Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT])
        status = _status_for_age(now - received, rng)
        _add_thread(inquiry, status, priority, rng, officers, received, now)
    return [f"Inquiries: {DEMO_INQUIRY_COUNT} added, with their threads."]


def _status_for_age(age: timedelta, rng: random.Random) -> Status:
    """A desk in good order (issue 10 defect 8): recent ones being worked on, old ones mostly done, a few late."""
    if age < timedelta(days=1):
        return Status.NEW
    if age < timedelta(days=4):
        return rng.choice([Status.OPEN, Status.OPEN, Status.WAITING, Status.RESOLVED])
    late = rng.random() < 0.03  # the few that slipped: still open long after they came in
    if late:
        return Status.OPEN
    return rng.choice([Status.WAITING, Status.RESOLVED, Status.RESOLVED, Status.CLOSED, Status.CLOSED, Status.CLOSED])


def _trusted_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.trusted)))


def _add_thread(inquiry: Inquiry, status: Status, priority: Priority, rng: random.Random, officers: Sequence[User],
                received: datetime, now: datetime) -> None:
    """The demo inquiry's earlier life, written as it stands today: one "imported" event in its history."""
    with recorder.change(inquiry, actor=None, now=now) as change:
        inquiry.priority, inquiry.priority_rank = priority.value, priority.rank
        inquiry.status = status.value
        if status != Status.NEW and officers:
            change.now = _add_replies(inquiry, status, rng, officers, received, now)
        change.event("imported", status=status.value)


def _add_replies(inquiry: Inquiry, status: Status, rng: random.Random, officers: Sequence[User],
                 received: datetime, now: datetime) -> datetime:
    """Add the officer's note and reply; returns when the thread was last touched."""
    officer = rng.choice(officers)
    inquiry.assignee_id = officer.id
    moment = received + timedelta(hours=rng.randint(1, 48))
    if rng.random() < 0.4:
        inquiry.messages.append(Message(kind=MessageKind.NOTE.value, body=rng.choice(NOTES),
                                        author_user_id=officer.id, created_at=min(moment, now)))
    if status in (Status.WAITING, Status.RESOLVED, Status.CLOSED) or (status == Status.OPEN and rng.random() < 0.7):
        moment = min(moment + timedelta(hours=2), now)
        inquiry.messages.append(Message(kind=MessageKind.REPLY.value, body=REPLIES[inquiry.language],
                                        author_user_id=officer.id, channel=Channel.EMAIL.value, created_at=moment))
        inquiry.first_response_at = moment
    if status in (Status.RESOLVED, Status.CLOSED):
        inquiry.resolved_at = min(moment + timedelta(days=1), now)
    if status == Status.WAITING:
        inquiry.paused_at = moment
    return moment
