"""Public mailing pages: subscribe, confirm, preferences, and the one-click unsubscribe URL.

``/u/<token>`` is the RFC 8058 URL of every bulletin's ``List-Unsubscribe``
header: a POST whose body is ``List-Unsubscribe=One-Click`` unsubscribes at once,
with no cookie, login or CSRF token (the signed token is the authority); a GET or
HEAD only shows a button, so that a link scanner never unsubscribes anyone.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from inquiry_desk.core.access import public
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import csrf, db, limiter
from inquiry_desk.core.forms import SelectChoice, add_error, required
from inquiry_desk.core.i18n import LANGUAGES, localized_route
from inquiry_desk.core.logs import register_secret_paths
from inquiry_desk.core.navigation import PUBLIC_LINKS, MenuItem
from inquiry_desk.mailing import services, tokens
from inquiry_desk.mailing.consent import consent_text
from inquiry_desk.mailing.forms import ConfirmForm, PreferencesForm, SubscribeForm, UndoForm, UnsubscribeAllForm
from inquiry_desk.mailing.models import Subscription, SubscriptionStatus

mailing_bp = Blueprint("mailing", __name__)

SUBSCRIBE_PATHS = {"en": "/en/mailing-lists/subscribe", "fr": "/fr/listes-de-diffusion/abonnement"}
SENT_PATHS = {"en": "/en/mailing-lists/check-your-email", "fr": "/fr/listes-de-diffusion/verifiez-vos-courriels"}
CONFIRM_PATHS = {"en": "/en/mailing-lists/confirm/<token>", "fr": "/fr/listes-de-diffusion/confirmer/<token>"}
PREFERENCES_PATHS = {"en": "/en/mailing-lists/preferences/<token>",
                     "fr": "/fr/listes-de-diffusion/preferences/<token>"}
UNSUBSCRIBE_ALL_PATHS = {"en": "/en/mailing-lists/preferences/<token>/unsubscribe",
                         "fr": "/fr/listes-de-diffusion/preferences/<token>/desabonnement"}

register_secret_paths(["/u/", *(path.split("<token>", 1)[0] for path in
                                (*CONFIRM_PATHS.values(), *PREFERENCES_PATHS.values()))])

PUBLIC_LINKS.append(MenuItem("mailing.subscribe", _l("Subscribe to our bulletins"),
                             description=_l("Choose the mailing lists you want and the language you read.")))


def _limit() -> str:
    return str(current_app.config["MAILING_RATE_LIMIT"])


def _link_problem(error: DomainError) -> tuple[str, int]:
    expired = isinstance(error, tokens.LinkExpired)
    return render_template("mailing/link_problem.html", expired=expired), (410 if expired else 404)


@localized_route(mailing_bp, SUBSCRIBE_PATHS, "subscribe", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def subscribe(lang_code: str) -> Response | str:
    form = SubscribeForm()
    lists = services.public_lists()
    form.lists.choices = [SelectChoice(ml.id, ml.name(lang_code)) for ml in lists]
    form.consent.label.text = consent_text(lang_code)
    if not form.is_submitted():
        form.language.data = lang_code
    if form.validate_on_submit():
        try:
            services.request_subscription(required(form.email.data), form.lists.data or [],
                                          language=required(form.language.data), name=form.name.data or None,
                                          ip_address=request.remote_addr, now=utcnow())
        except DomainError as error:
            add_error(form.lists, str(error))
        else:
            db.session.commit()
            return redirect(url_for("mailing.check_email", lang_code=lang_code))
    return render_template("mailing/subscribe.html", form=form, lists=lists)


@localized_route(mailing_bp, SENT_PATHS, "check_email")
@public
def check_email(lang_code: str) -> str:
    return render_template("mailing/check_email.html")


@localized_route(mailing_bp, CONFIRM_PATHS, "confirm", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def confirm(lang_code: str, token: str) -> Response | tuple[str, int] | str:
    now = utcnow()
    form = ConfirmForm()
    try:
        services.read_confirmation(token, now=now)
        if form.validate_on_submit():
            confirmation = services.confirm(token, now=now)
            db.session.commit()
            session["mailing_confirmed"] = True
            return redirect(url_for("mailing.preferences", lang_code=confirmation.language,
                                    token=services.preferences_token(confirmation.contact)))
    except (tokens.LinkInvalid, tokens.LinkExpired) as error:
        return _link_problem(error)
    return render_template("mailing/confirm.html", form=form)


@localized_route(mailing_bp, PREFERENCES_PATHS, "preferences", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def preferences(lang_code: str, token: str) -> Response | tuple[str, int] | str:
    try:
        contact = services.contact_from_preferences_token(token)
    except tokens.LinkInvalid as error:
        return _link_problem(error)
    subscriptions = services.subscriptions_of(contact)
    joined = {s.list_id: s for s in subscriptions}
    choices = {ml.id: ml.name(lang_code) for ml in services.public_lists()}
    for subscription in subscriptions:
        choices.setdefault(subscription.list_id, subscription.mailing_list.name(lang_code))
    form = PreferencesForm()
    form.lists.choices = [SelectChoice(list_id, name)
                          for list_id, name in sorted(choices.items(), key=lambda item: item[1])]
    if not form.is_submitted():
        form.lists.data = [list_id for list_id, s in joined.items() if s.status == SubscriptionStatus.SUBSCRIBED]
        subscribed = [s for s in subscriptions if s.status == SubscriptionStatus.SUBSCRIBED]
        form.language.data = subscribed[0].language if subscribed else lang_code
    if form.validate_on_submit():
        try:
            services.update_preferences(contact, language=required(form.language.data), list_ids=form.lists.data or [],
                                        ip_address=request.remote_addr, now=utcnow())
        except DomainError as error:
            add_error(form.lists, str(error))
        else:
            db.session.commit()
            session["mailing_saved"] = True
            return redirect(url_for("mailing.preferences", lang_code=required(form.language.data), token=token))
    return render_template("mailing/preferences.html", form=form, contact=contact, token=token,
                           all_form=UnsubscribeAllForm(), saved=session.pop("mailing_saved", False),
                           confirmed=session.pop("mailing_confirmed", False))


@localized_route(mailing_bp, UNSUBSCRIBE_ALL_PATHS, "unsubscribe_all", methods=["POST"])
@public
@limiter.limit(_limit)
def unsubscribe_all(lang_code: str, token: str) -> Response | tuple[str, int] | str:
    try:
        contact = services.contact_from_preferences_token(token)
    except tokens.LinkInvalid as error:
        return _link_problem(error)
    if not UnsubscribeAllForm().validate_on_submit():
        return redirect(url_for("mailing.preferences", lang_code=lang_code, token=token))
    services.unsubscribe_from_all(contact, now=utcnow())
    db.session.commit()
    return render_template("mailing/unsubscribed.html", everything=True, token=token)


def _subscription_or_problem(token: str) -> Subscription | tuple[str, int]:
    try:
        subscription = services.subscription_from_unsubscribe_token(token)
    except tokens.LinkInvalid as error:
        g.lang = request.accept_languages.best_match(LANGUAGES) or "en"
        return _link_problem(error)
    g.lang = subscription.language  # the page speaks the language of the bulletins
    return subscription


@mailing_bp.route("/u/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
@limiter.limit(_limit, methods=["POST"])
def one_click(token: str) -> Response | tuple[str, int] | str:
    found = _subscription_or_problem(token)
    if not isinstance(found, Subscription):
        return found
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        services.one_click_unsubscribe(found, now=utcnow())
        db.session.commit()
        return render_template("mailing/unsubscribed.html", everything=False, subscription=found,
                               undo_form=UndoForm(), token=token)
    preferences_url = url_for("mailing.preferences", lang_code=found.language,
                              token=services.preferences_token(found.contact))
    return render_template("mailing/unsubscribe.html", subscription=found, token=token,
                           preferences_url=preferences_url)


@mailing_bp.route("/u/<token>/undo", methods=["POST"])
@public
@limiter.limit(_limit)
def undo(token: str) -> Response | tuple[str, int] | str:
    found = _subscription_or_problem(token)
    if not isinstance(found, Subscription):
        return found
    if UndoForm().validate_on_submit():
        services.undo_unsubscribe(found, now=utcnow())
        db.session.commit()
        session["mailing_saved"] = True
    return redirect(url_for("mailing.preferences", lang_code=found.language,
                            token=services.preferences_token(found.contact)))


@mailing_bp.after_request
def _referrer_stays_on_this_site(response: Response) -> Response:
    # The URLs carry the subscriber's tokens: never to another site; same-origin keeps the Referer that
    # Flask-WTF checks on a POST over HTTPS.
    response.headers["Referrer-Policy"] = "same-origin"
    return response
