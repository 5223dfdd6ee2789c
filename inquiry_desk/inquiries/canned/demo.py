"""Demo canned responses: the replies this team writes every week, in English and French."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.canned import services as canned
from inquiry_desk.inquiries.canned.models import CannedResponse

# (title_en, title_fr, body_en, body_fr)
DEMO_CANNED_RESPONSES: list[tuple[str, str, str, str]] = [
    (
        "Acknowledgement with reference number",
        "Accusé de réception avec numéro de référence",
        "Hello {{ requester_name }},\n\n"
        "Thank you for writing to us{% if organisation %} on behalf of {{ organisation }}{% endif %}. "
        "We received your inquiry \"{{ subject }}\" and gave it the reference number {{ reference }}. "
        "Please quote this number if you write to us again about it.\n\n"
        "We answer most inquiries within five business days.\n\n"
        "Kind regards,\n{{ officer_name }}",
        "Bonjour {{ requester_name }},\n\n"
        "Merci de nous avoir écrit{% if organisation %} pour l’organisme {{ organisation }}{% endif %}. "
        "Nous avons bien reçu votre demande « {{ subject }} » et lui avons attribué le numéro de référence "
        "{{ reference }}. Veuillez indiquer ce numéro si vous nous écrivez de nouveau à ce sujet.\n\n"
        "Nous répondons à la plupart des demandes dans un délai de cinq jours ouvrables.\n\n"
        "Cordialement,\n{{ officer_name }}",
    ),
    (
        "Request for more information",
        "Demande de renseignements supplémentaires",
        "Hello {{ requester_name }},\n\n"
        "Thank you for your inquiry {{ reference }}. So that we can help, could you send us:\n\n"
        "- the full name and date of birth of each person concerned, as written in their passport;\n"
        "- any file or application number you have already received;\n"
        "- the best way and time to reach you.\n\n"
        "Please reply to this email and keep the reference number in the subject line. Do not send "
        "passport scans unless we ask for them.\n\n"
        "Kind regards,\n{{ officer_name }}",
        "Bonjour {{ requester_name }},\n\n"
        "Merci de votre demande {{ reference }}. Pour que nous puissions vous aider, pourriez-vous nous "
        "faire parvenir :\n\n"
        "- le nom complet et la date de naissance de chaque personne concernée, tels qu’ils figurent dans "
        "leur passeport;\n"
        "- tout numéro de dossier ou de demande que vous avez déjà reçu;\n"
        "- le meilleur moyen et le meilleur moment pour vous joindre.\n\n"
        "Veuillez répondre à ce courriel en conservant le numéro de référence dans l’objet. N’envoyez pas "
        "de copie de passeport à moins que nous vous la demandions.\n\n"
        "Cordialement,\n{{ officer_name }}",
    ),
    (
        "Referral to a settlement partner",
        "Orientation vers un partenaire en établissement",
        "Hello {{ requester_name }},\n\n"
        "Thank you for your inquiry {{ reference }}. Questions about housing, schooling, health care "
        "and other help after arrival are best answered by a settlement partner in the community where "
        "the family will live. Settlement services are free for resettled refugees.\n\n"
        "You can find a settlement partner near you on the Government of Canada's \"Find free newcomer "
        "services near you\" page. If the family has not arrived yet, their settlement partner will "
        "contact them once their travel is confirmed.\n\n"
        "We will close this inquiry for now; reply to this email if you need anything else from us.\n\n"
        "Kind regards,\n{{ officer_name }}",
        "Bonjour {{ requester_name }},\n\n"
        "Merci de votre demande {{ reference }}. Les questions sur le logement, l’école, les soins de "
        "santé et les autres formes d’aide après l’arrivée relèvent d’un partenaire en établissement de "
        "la collectivité où la famille vivra. Les services d’établissement sont gratuits pour les réfugiés "
        "réinstallés.\n\n"
        "Vous trouverez un partenaire près de chez vous sur la page « Trouver des services gratuits pour "
        "les nouveaux arrivants près de chez vous » du gouvernement du Canada. Si la famille n’est pas "
        "encore arrivée, son partenaire en établissement communiquera avec elle une fois le voyage "
        "confirmé.\n\n"
        "Nous fermons cette demande pour le moment; répondez à ce courriel si vous avez besoin d’autre "
        "chose.\n\n"
        "Cordialement,\n{{ officer_name }}",
    ),
    (
        "Private sponsorship: application status",
        "Parrainage privé : état de la demande",
        "Hello {{ requester_name }},\n\n"
        "Thank you for your inquiry {{ reference }} about your private sponsorship application. "
        "We have checked, and the application is still being processed. Processing times depend on the "
        "visa office and on security, medical and travel checks, which we cannot speed up.\n\n"
        "You can follow the application in your online account, and the current processing times are "
        "published on the Government of Canada website. We will write to you as soon as there is news "
        "that we are able to share.\n\n"
        "Kind regards,\n{{ officer_name }}",
        "Bonjour {{ requester_name }},\n\n"
        "Merci de votre demande {{ reference }} au sujet de votre demande de parrainage privé. "
        "Après vérification, la demande est toujours en traitement. Les délais dépendent du bureau des "
        "visas et des contrôles de sécurité, des examens médicaux et des préparatifs de voyage, que nous "
        "ne pouvons pas accélérer.\n\n"
        "Vous pouvez suivre la demande dans votre compte en ligne; les délais de traitement actuels sont "
        "publiés sur le site Web du gouvernement du Canada. Nous vous écrirons dès que nous aurons des "
        "nouvelles à vous communiquer.\n\n"
        "Cordialement,\n{{ officer_name }}",
    ),
    (
        "Media request: redirect to media relations",
        "Demande des médias : renvoi aux relations avec les médias",
        "Hello {{ requester_name }},\n\n"
        "Thank you for your interest in the resettlement commitment. Our team cannot give interviews or "
        "comment to the media; all media requests are handled by the department's media relations "
        "office, which will answer you directly. We have passed on your request \"{{ subject }}\" "
        "(reference {{ reference }}).\n\n"
        "Kind regards,\n{{ officer_name }}",
        "Bonjour {{ requester_name }},\n\n"
        "Merci de l’intérêt que vous portez à l’engagement de réinstallation. Notre équipe ne peut pas "
        "accorder d’entrevues ni faire de commentaires aux médias; toutes les demandes des médias sont "
        "traitées par le bureau des relations avec les médias du ministère, qui vous répondra "
        "directement. Nous lui avons transmis votre demande « {{ subject }} » (référence "
        "{{ reference }}).\n\n"
        "Cordialement,\n{{ officer_name }}",
    ),
]


def seed_canned_responses(now: datetime | None = None) -> list[str]:
    """Add the demo responses when there are none yet (running it twice adds nothing).

    Takes ``now`` like every seeder in demo.SEEDERS; written as by the first lead, if any.
    """
    now = now or utcnow()
    if db.session.scalar(select(func.count()).select_from(CannedResponse)):
        return ["Canned responses: already there, none added."]
    lead = db.session.scalar(
        select(User).where(User.role == Role.LEAD.value, User.active.is_(True)).order_by(User.id).limit(1)
    )
    for title_en, title_fr, body_en, body_fr in DEMO_CANNED_RESPONSES:
        canned.create(title_en=title_en, title_fr=title_fr, body_en=body_en, body_fr=body_fr, actor=lead, now=now)
    return [f"Canned responses: {len(DEMO_CANNED_RESPONSES)} added."]
