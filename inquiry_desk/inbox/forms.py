"""Forms of the staff inbox. Choices that come from the database are set by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from inquiry_desk.core.forms import Parsed, language_choices
from inquiry_desk.core.text import parse_line, parse_text
from inquiry_desk.inquiries.attachment_fields import files_field


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=True)
    submit = SubmitField(_l("Assign"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[])
    submit = SubmitField(_l("Set status"))


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=[])
    submit = SubmitField(_l("Set priority"))


class TopicForm(FlaskForm):
    topic = SelectField(_l("Topic"), choices=[])
    submit = SubmitField(_l("Set topic"))


class TagsForm(FlaskForm):
    tags = StringField(_l("Tags"), description=_l("Separate tags with commas."),
                       validators=[Parsed(parse_line, max_length=1200, required=False)])
    submit = SubmitField(_l("Save tags"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), description=_l("Only staff see notes; they are never sent."),
                         validators=[Parsed(parse_text, max_length=20000, required_message=_l("Write the note."))],
                         render_kw={"rows": 4})
    submit = SubmitField(_l("Add note"))


class ReplyForm(FlaskForm):
    canned = SelectField(_l("Canned response"), choices=[], validators=[Optional()], validate_choice=False)
    insert = SubmitField(_l("Insert into the reply"))
    language = SelectField(_l("Language of the reply"), choices=language_choices)
    body = TextAreaField(_l("Reply to the stakeholder"),
                         description=_l("Sent by email and shown on the stakeholder's private page."),
                         validators=[Parsed(parse_text, max_length=20000, required=False)],
                         render_kw={"rows": 8})
    attachments = files_field()
    next_status = SelectField(_l("Then set the status to"), choices=[])
    version = HiddenField()
    confirm = HiddenField()
    # Shown only when the reply mentions people concerned without consent on file (inquiries/consent.py).
    disclosure_acknowledged = BooleanField(_l(
        "I have checked: the sender may receive what this reply says about these people."))
    submit = SubmitField(_l("Send reply"))


class MergeForm(FlaskForm):
    target = StringField(_l("Reference of the inquiry to keep"),
                         description=_l("For example INQ-2026-000123. This inquiry's thread moves there and it "
                                        "is closed; the stakeholder is told by email."),
                         validators=[Parsed(parse_line, max_length=30,
                                            required_message=_l("Enter a reference number."))])
    submit = SubmitField(_l("Merge into that inquiry"))


class UnmergeForm(FlaskForm):
    submit = SubmitField(_l("Undo the merge"))


class LinkForm(FlaskForm):
    other = StringField(_l("Reference of the related inquiry"),
                        description=_l("For example INQ-2026-000123. Nothing moves: each stakeholder keeps their "
                                       "own thread, and both inquiries show the link."),
                        validators=[Parsed(parse_line, max_length=30,
                                           required_message=_l("Enter a reference number."))])
    submit = SubmitField(_l("Link the inquiries"))


class UnlinkForm(FlaskForm):
    submit = SubmitField(_l("Remove the link"))


class HoldForm(FlaskForm):
    reason = StringField(_l("Reason for the hold"),
                         description=_l("For example an access-to-information request or a legal matter. "
                                        "While on hold, the inquiry is never purged."),
                         validators=[Parsed(parse_line, max_length=500,
                                            required_message=_l("Give the reason for the hold."))])
    submit = SubmitField(_l("Put on hold"))


class LiftHoldForm(FlaskForm):
    submit = SubmitField(_l("Lift the hold"))


class BulkForm(FlaskForm):
    action = SelectField(_l("Action"), choices=[])
    value = StringField(_l("Value"), validators=[Parsed(parse_line, max_length=60, required=False)])
    confirmed = HiddenField()
    submit = SubmitField(_l("Apply to the selection"))


class SavedViewForm(FlaskForm):
    name = StringField(_l("Name of this view"), validators=[
        Parsed(parse_line, max_length=80, required_message=_l("Give the view a name."))])
    query = HiddenField()
    submit = SubmitField(_l("Save this view"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))




# --- protected information (inbox/protection_views.py) ---------------------------------------


class RestrictForm(FlaskForm):
    reason = StringField(_l("Reason for restricting"), description=_l(
        "Only the assignee, the staff named on it and leads will read this inquiry."),
        validators=[Parsed(parse_line, max_length=500, required_message=_l("Give a reason."))])
    submit = SubmitField(_l("Restrict this inquiry"))


class JustifyForm(FlaskForm):
    reason = StringField(_l("Why do you need to open this inquiry?"), description=_l(
        "Your reason is kept in the audit log and shown in the inquiry's access report."),
        validators=[Parsed(parse_line, max_length=500, required_message=_l("Give a reason."))])
    submit = SubmitField(_l("Open the inquiry"))


class NameStaffForm(FlaskForm):
    user = SelectField(_l("Name a staff member"), choices=[], validate_choice=True)
    submit = SubmitField(_l("Name"))


class RedactForm(FlaskForm):
    reason = StringField(_l("Reason for redacting"), description=_l(
        "The text is replaced everywhere it is kept (thread, search, outgoing email); it cannot be brought back."),
        validators=[Parsed(parse_line, max_length=500, required_message=_l("Give a reason."))])
    submit = SubmitField(_l("Redact this message"))


class RedactFieldForm(FlaskForm):
    """One field of the inquiry, its requester or a person concerned (inquiries/redaction.py)."""

    field = SelectField(_l("Field to redact"), choices=[])
    reason = StringField(_l("Reason for redacting"), description=_l(
        "The text is replaced everywhere it is kept (thread, search, outgoing email); it cannot be brought back."),
        validators=[Parsed(parse_line, max_length=500, required_message=_l("Give a reason."))])
    submit = SubmitField(_l("Redact this field"))


class PersonForm(FlaskForm):
    name = StringField(_l("Name of the person concerned"), validators=[
        Parsed(parse_line, max_length=200, required_message=_l("Give the person's name."))])
    relationship = StringField(_l("Relationship to the sender"),
                               description=_l("For example: brother, client, employee."),
                               validators=[Parsed(parse_line, max_length=100,
                                                  required_message=_l("Say how the person is related to the sender."))])
    identifiers = StringField(_l("Identifiers (optional)"), description=_l(
        "A UCI, an application number…; separate several with commas."),
        validators=[Parsed(parse_line, max_length=300, required=False)])
    submit = SubmitField(_l("Add the person"))


class ConsentForm(FlaskForm):
    person = SelectField(_l("Person"), choices=[], validate_choice=True)
    how = StringField(_l("How consent was given"),
                      description=_l("For example: signed form, email from the person."),
                      validators=[Parsed(parse_line, max_length=100,
                                         required_message=_l("Say how consent was given."))])
    given_on = DateField(_l("Given on"), validators=[Optional()])
    until = DateField(_l("Valid until (optional)"), validators=[Optional()])
    document = StringField(_l("Reference to the document (optional)"),
                           validators=[Parsed(parse_line, max_length=200, required=False)])
    submit = SubmitField(_l("Record consent"))
