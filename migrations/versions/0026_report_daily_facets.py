"""The daily roll-up by one dimension at a time (issue 18: the dashboard at a million inquiries).

``report_daily_facets``: ``report_daily_rollup`` summed over every dimension but one (``facet``:
"all", "channel", "organisation_kind", "language"), keeping the columns of the reader's
need-to-know (topic, assignee, restricted). Filled here from the rows already rolled up, so that
every day marked rolled up has its facets; kept since by the roll-up (reports/rollup.py).
``ix_report_inquiry_times_measure_day`` carries on PostgreSQL the columns the response times read
without a content filter (INCLUDE), so that they come from an index-only scan.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

COUNTS = "received, first_responses, first_response_met, resolved, resolution_met"
SUMS = ", ".join(f"SUM({name})" for name in COUNTS.split(", "))
TIME_COLUMNS = ["priority", "topic_id", "restricted", "assignee_id", "minutes", "met"]
KEYS = {"all": "CAST(NULL AS VARCHAR(40))", "channel": "channel", "organisation_kind": "organisation_kind",
        "language": "language"}


def upgrade():
    op.create_table(
        "report_daily_facets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("first_responses", sa.Integer(), nullable=False),
        sa.Column("first_response_met", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("resolution_met", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_daily_facets")),
    )
    op.create_index("ix_report_daily_facets_facet_day", "report_daily_facets", ["facet", "day"])
    op.drop_index("ix_report_inquiry_times_measure_day", table_name="report_inquiry_times")
    op.create_index("ix_report_inquiry_times_measure_day", "report_inquiry_times", ["measure", "day"],
                    postgresql_include=TIME_COLUMNS)
    for facet, key in KEYS.items():
        grouped = "day, topic_id, assignee_id, restricted" + ("" if facet == "all" else f", {key}")
        op.execute(f"INSERT INTO report_daily_facets (day, facet, key, topic_id, assignee_id, restricted, {COUNTS}) "  # noqa: S608
                   f"SELECT day, '{facet}', {key}, topic_id, assignee_id, restricted, {SUMS} "
                   f"FROM report_daily_rollup GROUP BY {grouped}")


def downgrade():
    op.drop_index("ix_report_inquiry_times_measure_day", table_name="report_inquiry_times")
    op.create_index("ix_report_inquiry_times_measure_day", "report_inquiry_times", ["measure", "day"])
    op.drop_index("ix_report_daily_facets_facet_day", table_name="report_daily_facets")
    op.drop_table("report_daily_facets")
