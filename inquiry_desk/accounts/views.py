"""Sign-in, second factor, own account, and user administration pages."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts import invitations, second_factor
from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    DigestPreferenceForm,
    EditUserForm,
    EnrolForm,
    InvitationForm,
    LoginForm,
    NewUserForm,
    NotificationPreferenceForm,
    RecoveryCodesForm,
    SecondFactorForm,
)
from inquiry_desk.accounts.models import Role, User
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.audit import services as audit
from inquiry_desk.core.access import public
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db, limiter, login_manager
from inquiry_desk.core.forms import add_error
from inquiry_desk.core.i18n import safe_next_path
from inquiry_desk.core.logs import register_secret_paths

auth_bp = Blueprint("auth", __name__, url_prefix="/auth")
staff_bp = Blueprint("staff", __name__, url_prefix="/staff")
admin_bp = Blueprint("admin", __name__, url_prefix="/staff/admin")

# How long the gap between the password and the second factor may be.
PENDING_LOGIN_LIFETIME = timedelta(minutes=10)
SESSION_TOKEN_KEY = "staff_token"  # noqa: S105  (a session key name, not a secret)
PENDING_KEY = "pending_login"

# The invitation's token is a secret: never in a log line.
register_secret_paths(["/auth/invitation/"])

login_manager.login_view = "auth.login"
login_manager.login_message = None  # the sign-in page says it itself


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = accounts.session_user(int(user_id), session.get(SESSION_TOKEN_KEY), now=utcnow())
    if db.session.dirty:  # the session was touched or timed out: keep that
        db.session.commit()
    return user


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _email_key() -> str:
    """The per-account limit's key: a keyed hash of what was typed (a password typed there by mistake
    must not land in the limiter's storage or its log)."""
    typed = request.form.get("email", "").strip().lower()
    digest = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), typed.encode(), hashlib.sha256)
    return "login-email:" + digest.hexdigest()[:32]


def _pending_user(now: datetime) -> User | None:
    pending = session.get(PENDING_KEY)
    if not pending:
        return None
    started = datetime.fromisoformat(pending["at"])
    if now - started > PENDING_LOGIN_LIFETIME:
        session.pop(PENDING_KEY, None)
        return None
    return accounts.get_user(pending["user_id"])


def _pending_key() -> str:
    pending = session.get(PENDING_KEY) or {}
    return f"second-factor:{pending.get('user_id', request.remote_addr)}"


def _finish_login(user: User, now: datetime) -> Response:
    next_path = safe_next_path(session.get("next"), url_for("staff.home"))
    # The language used to sign in becomes the one for this person's emails too.
    lang = g.lang
    accounts.set_language(user, lang)
    token = accounts.start_session(user, now=now, ip_address=request.remote_addr)
    db.session.commit()
    session.clear()  # a new session at sign-in: nothing carried over from before
    session[SESSION_TOKEN_KEY] = token
    session["lang"] = lang
    login_user(user)
    return redirect(next_path)


@auth_bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            user = accounts.check_password(form.email.data or "", form.password.data or "", now=now,
                                           ip_address=request.remote_addr)
        except accounts.LoginFailed:
            db.session.commit()  # keep the failure count
            form.form_errors.append(
                _("The email address or password is not right, or the account is locked for a while "
                  "after too many attempts. Check them and try again.")
            )
        else:
            db.session.commit()
            next_path = request.args.get("next")
            session[PENDING_KEY] = {"user_id": user.id, "at": now.isoformat()}
            session["next"] = safe_next_path(next_path, url_for("staff.home"))
            if user.totp_enrolled:
                return redirect(url_for("auth.second_factor"))
            return redirect(url_for("auth.enrol"))
    return render_template("accounts/login.html", form=form)


@auth_bp.route("/second-factor", endpoint="second_factor", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key)
def second_factor_step() -> Response | str:
    now = utcnow()
    user = _pending_user(now)
    if user is None or not user.totp_enrolled:
        flash(_("Your sign-in took too long. Start again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            accounts.check_second_factor(user, form.code.data or "", now=now, ip_address=request.remote_addr)
        except accounts.SecondFactorFailed:
            db.session.commit()
            add_error(form.code, _("This code is not right, or it was already used. Wait for a new code."))
        else:
            return _finish_login(user, now)
    return render_template("accounts/second_factor.html", form=form)


@auth_bp.route("/enrol", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key)
def enrol() -> Response | str:
    now = utcnow()
    user = _pending_user(now)
    if user is None or user.totp_enrolled:
        return redirect(url_for("auth.login"))
    secret = accounts.pending_totp_secret(user)
    db.session.commit()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = accounts.confirm_enrolment(user, form.code.data or "", now=now)
        except accounts.SecondFactorFailed:
            add_error(form.code, _("This code is not right. Check the time on your phone and try the next code."))
        else:
            response = _finish_login(user, now)
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=response.location)
    uri = second_factor.provisioning_uri(secret, user.email)
    return render_template("accounts/enrol.html", form=form, secret=secret,
                           qr_svg=second_factor.qr_code_svg(uri))


@auth_bp.route("/invitation/<token>", endpoint="invitation", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def accept_invitation(token: str) -> Response | tuple[str, int]:
    """Set one's password from an invitation, then enrol the second factor (which signs in)."""
    now = utcnow()
    try:
        invitation = invitations.pending_invitation(token, now=now)
    except invitations.InvitationInvalid as error:
        return render_template("accounts/invitation_problem.html", message=error.message), error.http_status
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(token, form.new_password.data or "", now=now, ip_address=request.remote_addr)
        except invitations.InvitationInvalid as error:
            db.session.rollback()
            return render_template("accounts/invitation_problem.html", message=error.message), error.http_status
        except accounts.WeakPassword:
            add_error(form.new_password, _("The password must have at least 12 characters."))
        else:
            db.session.commit()
            lang = session.get("lang")
            session.clear()  # whoever was signed in in this browser: the new person starts afresh
            if lang:
                session["lang"] = lang
            session[PENDING_KEY] = {"user_id": user.id, "at": now.isoformat()}
            session["next"] = url_for("staff.home")
            flash(_("Your password is set. Now set up the second factor."), "success")
            return redirect(url_for("auth.enrol"))
    status = 422 if form.errors else 200
    return render_template("accounts/invitation.html", form=form, user=invitation.user), status


@auth_bp.route("/logout", methods=["POST"])
@role_required(Role.VIEWER)
def logout() -> Response:
    now = utcnow()
    accounts.end_session(session.get(SESSION_TOKEN_KEY), now=now)
    audit.record("logout", actor_id=current_user.id, subject_type="user", subject_id=current_user.id, now=now)
    db.session.commit()
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))


@staff_bp.route("/")
@role_required(Role.VIEWER)
def home() -> str:
    return render_template("staff/home.html")


def _account_page(codes_form: RecoveryCodesForm | None = None) -> str:
    return render_template("accounts/account.html", form=codes_form or RecoveryCodesForm(),
                           digest_form=DigestPreferenceForm(wants_digest=current_user.wants_digest),
                           notification_form=NotificationPreferenceForm(
                               wants_notifications=current_user.wants_notifications),
                           remaining_codes=accounts.remaining_recovery_codes(current_user))


@staff_bp.route("/account")
@role_required(Role.VIEWER)
def account() -> str:
    return _account_page()


@staff_bp.route("/account/digest", endpoint="digest_preference", methods=["POST"])
@role_required(Role.VIEWER)
def digest_preference() -> Response:
    form = DigestPreferenceForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_digest_preference(current_user, bool(form.wants_digest.data), actor=current_user, now=utcnow())
    db.session.commit()
    if form.wants_digest.data:
        flash(_("You will receive the daily digest."), "success")
    else:
        flash(_("You will no longer receive the daily digest."), "success")
    return redirect(url_for("staff.account"))


@staff_bp.route("/account/notifications", endpoint="notification_preference", methods=["POST"])
@role_required(Role.VIEWER)
def notification_preference() -> Response:
    form = NotificationPreferenceForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_notification_preference(current_user, bool(form.wants_notifications.data), actor=current_user,
                                         now=utcnow())
    db.session.commit()
    if form.wants_notifications.data:
        flash(_("You will be emailed when an inquiry is assigned to you or its stakeholder replies."), "success")
    else:
        flash(_("You will no longer be emailed about assignments and replies."), "success")
    return redirect(url_for("staff.account"))


@staff_bp.route("/account/password", methods=["GET", "POST"])
@role_required(Role.VIEWER)
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data or "", form.new_password.data or "",
                                     keep_token=session.get(SESSION_TOKEN_KEY), now=utcnow())
        except accounts.LoginFailed:
            add_error(form.current_password, _("Your current password is not right."))
        except accounts.WeakPassword:
            add_error(form.new_password, _("The password must have at least 12 characters."))
        else:
            db.session.commit()
            flash(_("Your password is changed. You were signed out everywhere else."), "success")
            return redirect(url_for("staff.account"))
    return render_template("accounts/change_password.html", form=form)


@staff_bp.route("/account/recovery-codes", methods=["POST"])
@role_required(Role.VIEWER)
def new_recovery_codes() -> str | tuple[str, int]:
    form = RecoveryCodesForm()
    if not form.validate_on_submit():
        return _account_page(form), 422
    try:
        codes = accounts.replace_recovery_codes_checked(current_user, form.password.data or "", now=utcnow())
    except accounts.LoginFailed:
        db.session.commit()  # the refusal is audited
        add_error(form.password, _("Your password is not right."))
        return _account_page(form), 422
    db.session.commit()
    return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for("staff.account"))


@admin_bp.route("/users")
@role_required(Role.ADMIN)
def users() -> str:
    return render_template("admin/users.html", users=accounts.list_users())


@admin_bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user() -> Response | str:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = invitations.invite(name=form.name.data or "", email=form.email.data or "", role=form.role.data,
                                      language=form.language.data, actor=current_user, now=utcnow())
        except accounts.InvalidEmail:
            add_error(form.email, _("Enter an email address like name@example.org."))
        except accounts.EmailTaken:
            add_error(form.email, _("A user with this email address already exists."))
        else:
            db.session.commit()
            flash(_("User %(name)s created. An invitation is emailed to %(email)s: they set their own password, "
                    "then their second factor.", name=user.name, email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form)


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int) -> Response | str:
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.update_user(user, role=form.role.data, active=form.active.data, actor=current_user, now=utcnow())
        except accounts.LastAdminError:
            db.session.rollback()
            form.form_errors.append(_("This would leave no active administrator. Make someone else an "
                                      "administrator first."))
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/edit_user.html", form=form, user=user, reset_form=ConfirmForm())


@admin_bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@role_required(Role.ADMIN)
def send_invitation(user_id: int) -> Response:
    """A new invitation (the earlier one no longer works): it expired, or the email was lost."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitations.send_invitation(user, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("A new invitation is emailed to %(email)s. Earlier links no longer work.", email=user.email), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@admin_bp.route("/users/<int:user_id>/reset-second-factor", methods=["POST"])
@role_required(Role.ADMIN)
def reset_second_factor(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.reset_second_factor(user, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("The second factor of %(name)s is reset. They will set it up again at their next sign-in.",
            name=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))
