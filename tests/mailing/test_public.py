"""Public mailing pages: double opt-in, preferences, one-click unsubscribe (RFC 8058), undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mailing import recipients, services, suppression, tokens
from inquiry_desk.mailing.consent import consent_text
from inquiry_desk.mailing.models import Subscription

from ..helpers import form_errors, page
from .support import T0, confirm_path, confirmation_emails, consents, make_list, subscriptions_for

SUBSCRIBE = {"en": "/en/mailing-lists/subscribe", "fr": "/fr/listes-de-diffusion/abonnement"}


def _subscribe(client, lang: str, list_ids: list[int], email: str = "amelie@example.net", **extra: object):
    data = {"email": email, "name": "Amélie", "lists": list_ids, "language": lang, "consent": "y", **extra}
    return client.post(SUBSCRIBE[lang], data=data)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_double_opt_in_subscribes_only_after_the_link_is_followed(app, client, lang: str) -> None:
    news, partners = make_list("News"), make_list("Partners")
    make_list("Private", public=False)
    soup = page(client.get(SUBSCRIBE[lang]), lang=lang)
    assert len(soup.select("input[name=lists]")) == 2  # the private list is not offered
    assert consent_text(lang) in soup.get_text(" ")

    response = _subscribe(client, lang, [news.id, partners.id])
    assert response.status_code == 302
    page(client.get(response.headers["Location"]), lang=lang)
    subscriptions = subscriptions_for("amelie@example.net")
    assert [s.status for s in subscriptions] == ["pending", "pending"]
    assert all(not consents(s) for s in subscriptions)  # no consent, no subscription, before the link
    [email] = confirmation_emails("amelie@example.net")
    assert email.language == lang

    path = confirm_path(email)
    page(client.get(path), lang=lang)  # a GET (a link scanner) changes nothing
    assert [s.status for s in subscriptions_for("amelie@example.net")] == ["pending", "pending"]
    response = client.post(path)
    assert response.status_code == 302 and "/preferences/" in response.headers["Location"]
    soup = page(client.get(response.headers["Location"]), lang=lang)
    assert soup.select_one(".notice-success")
    subscriptions = subscriptions_for("amelie@example.net")
    assert [s.status for s in subscriptions] == ["subscribed", "subscribed"]
    record = consents(subscriptions[0])[0]
    assert record.given and record.method == "public_form" and record.language == lang
    assert record.consent_text == consent_text(lang) and record.consent_version and record.ip_address


def test_an_expired_link_subscribes_no_one(app, client) -> None:
    news = make_list()
    hours = app.config["MAILING_CONFIRM_HOURS"]
    services.request_subscription("late@example.net", [news.id], language="en",
                                  now=utcnow() - timedelta(hours=hours, minutes=1))
    db.session.commit()
    path = confirm_path(confirmation_emails("late@example.net")[0])
    page(client.get(path), 410)
    assert client.post(path).status_code == 410
    assert [s.status for s in subscriptions_for("late@example.net")] == ["pending"]


def test_a_second_request_adds_no_subscription_and_reveals_nothing(app, client) -> None:
    news = make_list()
    first = _subscribe(client, "en", [news.id])
    second = _subscribe(client, "en", [news.id])
    unknown = _subscribe(client, "en", [news.id], email="someone-else@example.net")
    assert first.headers["Location"] == second.headers["Location"] == unknown.headers["Location"]
    assert len(subscriptions_for("amelie@example.net")) == 1
    assert len(confirmation_emails("amelie@example.net")) == 1  # one per address, lists and hour

    client.post(confirm_path(confirmation_emails("amelie@example.net")[0]))
    again = _subscribe(client, "en", [news.id])
    assert again.headers["Location"] == first.headers["Location"]
    [subscription] = subscriptions_for("amelie@example.net")
    assert subscription.status == "subscribed" and len(consents(subscription)) == 1


def test_a_bounced_address_gets_no_email_and_the_same_answer(app, client) -> None:
    news = make_list()
    suppression.suppress("bounced@example.net", "hard_bounce", source="test", actor=None, now=T0)
    db.session.commit()
    response = _subscribe(client, "en", [news.id], email="bounced@example.net")
    assert response.status_code == 302 and response.headers["Location"].endswith("/check-your-email")
    assert confirmation_emails("bounced@example.net") == []


def test_the_form_requires_a_list_and_consent(app, client) -> None:
    news = make_list()
    soup = page(client.post(SUBSCRIBE["en"], data={"email": "a@example.net", "language": "en"}), lang="en")
    assert len(form_errors(soup)) == 2
    soup = page(_subscribe(client, "en", [news.id + 99]), lang="en")  # not a public list
    assert form_errors(soup)
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0


def _subscribed(email: str = "amelie@example.net", *lists) -> list[Subscription]:
    for mailing_list in lists:
        services.add_member(mailing_list, email, name=None, language="en", consent_source="asked by phone",
                            actor=None, now=T0)
    db.session.commit()
    return subscriptions_for(email)


def test_preferences_change_language_and_lists(app, client) -> None:
    news, partners, other = make_list("News"), make_list("Partners"), make_list("Other")
    first, _second = _subscribed("amelie@example.net", news, partners)
    path = f"/fr/listes-de-diffusion/preferences/{services.preferences_token(first.contact)}"
    soup = page(client.get(path), lang="fr")
    assert {i["value"] for i in soup.select("input[name=lists][checked]")} == {str(news.id), str(partners.id)}

    response = client.post(path, data={"lists": [news.id, other.id], "language": "fr"})
    assert response.status_code == 302
    page(client.get(response.headers["Location"]), lang="fr")
    by_list = {s.list_id: s for s in subscriptions_for("amelie@example.net")}
    assert by_list[news.id].status == "subscribed" and by_list[news.id].language == "fr"
    assert by_list[partners.id].status == "unsubscribed"
    assert by_list[other.id].status == "subscribed" and by_list[other.id].language == "fr"
    assert [(r.given, r.method) for r in consents(by_list[partners.id])] == [(True, "staff"), (False, "preferences")]
    assert [(r.given, r.method) for r in consents(by_list[other.id])] == [(True, "preferences")]


def test_unsubscribe_from_everything_suppresses_and_keeps_the_records(app, client) -> None:
    news = make_list()
    [subscription] = _subscribed("amelie@example.net", news)
    token = services.preferences_token(subscription.contact)
    soup = page(client.post(f"/en/mailing-lists/preferences/{token}/unsubscribe"), lang="en")
    assert soup.h1.get_text(strip=True) == "You are unsubscribed"
    assert subscriptions_for("amelie@example.net")[0].status == "unsubscribed"
    assert [r.given for r in consents(subscription)] == [True, False]
    assert suppression.active_for("amelie@example.net").reason == "unsubscribed"


def test_one_click_post_unsubscribes_without_cookie_or_csrf_token(app_factory) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        news = make_list()
        [subscription] = _subscribed("amelie@example.net", news)
        headers = recipients.list_unsubscribe_headers(subscription)
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = headers["List-Unsubscribe"].split(">", 1)[0].lstrip("<")
        assert "<mailto:" in headers["List-Unsubscribe"]
        path = "/" + url.split("/", 3)[3]
        client = app.test_client(use_cookies=False)
        response = client.post(path, data="List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
        [subscription] = subscriptions_for("amelie@example.net")
        assert subscription.status == "unsubscribed"
        assert [(r.given, r.method) for r in consents(subscription)] == [(True, "staff"), (False, "one_click")]
        # A repeat is harmless and adds no second withdrawal.
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        assert len(consents(subscription)) == 2


def test_get_and_head_change_nothing(app, client) -> None:
    news = make_list()
    [subscription] = _subscribed("amelie@example.net", news)
    path = f"/u/{services.unsubscribe_token(subscription)}"
    soup = page(client.get(path), lang="en")
    assert soup.select_one("form input[name=List-Unsubscribe][value=One-Click]")
    assert client.head(path).status_code == 200
    assert client.post(path, data={"other": "x"}).status_code == 200  # a POST without the body: only the page
    assert subscriptions_for("amelie@example.net")[0].status == "subscribed"


def test_forged_and_other_tokens_are_refused(app, client) -> None:
    news = make_list()
    [mine] = _subscribed("amelie@example.net", news)
    [theirs] = _subscribed("jean@example.net", news)
    token = services.unsubscribe_token(mine)
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.post(f"/u/{forged}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    # A token of another kind (the preference link) does not open the unsubscribe URL.
    other_kind = services.preferences_token(theirs.contact)
    assert client.post(f"/u/{other_kind}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    # My token unsubscribes me, and only me.
    client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert subscriptions_for("jean@example.net")[0].status == "subscribed"
    assert subscriptions_for("amelie@example.net")[0].status == "unsubscribed"
    # A payload naming another subscription needs a signature no one else has.
    with pytest.raises(tokens.LinkInvalid):
        services.subscription_from_unsubscribe_token(token.replace(token.split(".")[0], tokens.sign(
            tokens.UNSUBSCRIBE, {"s": theirs.id}).split(".")[0]))
    assert client.get("/en/mailing-lists/preferences/not-a-token").status_code == 404


def test_unsubscribe_page_then_undo(app, client) -> None:
    news = make_list()
    [subscription] = _subscribed("amelie@example.net", news)
    token = services.unsubscribe_token(subscription)
    soup = page(client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}), lang="en")
    assert soup.select_one(f"form[action='/u/{token}/undo']")
    response = client.post(f"/u/{token}/undo")
    assert response.status_code == 302
    [subscription] = subscriptions_for("amelie@example.net")
    assert subscription.status == "subscribed"
    assert [(r.given, r.method) for r in consents(subscription)] == [(True, "staff"), (False, "one_click"),
                                                                     (True, "undo")]


def test_unconfirmed_sign_ups_are_removed_by_housekeeping(app) -> None:
    from inquiry_desk.jobs import registry

    news = make_list()
    services.request_subscription("late@example.net", [news.id], language="en", now=T0)
    _subscribed("kept@example.net", news)
    db.session.commit()
    assert "unconfirmed_subscriptions 0," in registry.housekeeping(T0 + timedelta(days=1))
    later = T0 + timedelta(days=app.config["MAILING_PENDING_DAYS"] + 1)
    assert "unconfirmed_subscriptions 1," in registry.housekeeping(later)
    assert subscriptions_for("late@example.net") == []
    assert len(subscriptions_for("kept@example.net")) == 1
    assert db.session.scalar(select(func.count()).select_from(OutgoingEmail)) == 1


def test_the_send_engine_gets_only_subscribed_and_unsuppressed_members(app) -> None:
    news = make_list()
    _subscribed("a@example.net", news)
    _subscribed("b@example.net", news)
    _subscribed("c@example.net", news)
    services.request_subscription("pending@example.net", [news.id], language="en", now=T0)
    recipients.record_bounce("b@example.net", source="smtp 550", now=T0)
    suppression.suppress("c@example.net", "lead", source="asked", actor=None, now=T0)
    db.session.commit()
    assert [contact.email for _s, contact in recipients.deliverable(news)] == ["a@example.net"]
    [bounced] = subscriptions_for("b@example.net")
    assert bounced.status == "bounced" and [r.given for r in consents(bounced)] == [True]
    assert suppression.active_for("b@example.net").reason == "hard_bounce"


def test_public_posts_are_rate_limited(app, client) -> None:
    news = make_list()
    app.config["MAILING_RATE_LIMIT"] = "2 per minute"
    statuses = [_subscribe(client, "en", [news.id], email=f"r{n}@example.net").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
