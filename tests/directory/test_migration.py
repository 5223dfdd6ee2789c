"""Migration 0010 keeps the directory's meaning: trusted organisations become trusted referral partners,
their domains keep matching subdomains, "government" becomes a province or territory, and the
inquiries and contacts linked to an organisation stay linked, down and up again."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from inquiry_desk.core.extensions import db

from ..helpers import make_inquiry, make_organisation
from ..test_migrations import MIGRATIONS


def test_down_to_0012_and_up_again_keeps_trust_links_and_domains(app) -> None:
    trusted = make_organisation("Aman Lara", domains=("amanlara.org",))
    other = make_organisation("Ontario", kind="province_territory", trusted=False, domains=())
    inquiry = make_inquiry(email="worker@amanlara.org")
    ids = (trusted.id, other.id, inquiry.id)
    db.session.commit()
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision="0012")
    with db.engine.connect() as connection:
        rows = dict(connection.execute(db.text("SELECT id, trusted FROM organisations")).all())
        assert rows == {ids[0]: True, ids[1]: False}
        assert connection.execute(db.text("SELECT kind FROM organisations WHERE id = :id"),
                                  {"id": ids[1]}).scalar() == "government"
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        statuses = dict(connection.execute(db.text("SELECT id, status FROM organisations")).all())
        assert statuses == {ids[0]: "trusted_referral_partner", ids[1]: "active"}
        assert connection.execute(db.text("SELECT kind FROM organisations WHERE id = :id"),
                                  {"id": ids[1]}).scalar() == "province_territory"
        assert connection.execute(db.text("SELECT include_subdomains FROM organisation_domains")).scalar() in (1, True)
        assert connection.execute(db.text("SELECT organisation_id FROM inquiries WHERE id = :id"),
                                  {"id": ids[2]}).scalar() == ids[0]
