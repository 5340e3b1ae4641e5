"""Labels for stored codes (roles, kinds of organisation, sign-in events), in both languages."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "operator": _l("Hotline operator"),
    "case_manager": _l("Case manager"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "partner": _l("Partner organisation"),
}
KIND_LABELS = {
    "hotline": _l("Hotline"),
    "social_work_centre": _l("Social work centre"),
    "womens_union": _l("Women's Union"),
    "health": _l("Health facility"),
    "legal_aid": _l("Legal aid centre"),
    "shelter": _l("Shelter"),
    "police": _l("Police"),
    "commune": _l("Commune People's Committee"),
    "ngo": _l("Non-governmental organisation"),
    "other": _l("Other"),
}
EVENT_LABELS = {
    "login_success": _l("Signed in"),
    "login_failure": _l("Failed sign-in"),
    "login_throttled": _l("Sign-in refused while locked"),
    "lockout": _l("Locked after repeated failures"),
    "logout": _l("Signed out"),
    "session_expired": _l("Session timed out"),
    "mfa_enrolled": _l("One-time codes turned on"),
    "mfa_disabled": _l("One-time codes turned off"),
    "mfa_failure": _l("Wrong one-time code"),
    "mfa_reset": _l("One-time codes reset by an admin"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_regenerated": _l("New recovery codes"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by an admin"),
    "sessions_revoked": _l("Other sessions signed out"),
    "user_created": _l("Account created"),
    "user_updated": _l("Account changed"),
    "user_disabled": _l("Account disabled"),
    "user_enabled": _l("Account enabled"),
    "organisation_created": _l("Organisation created"),
    "organisation_updated": _l("Organisation changed"),
    "view": _l("Viewed"),
    "create": _l("Created"),
    "update": _l("Changed"),
    "export": _l("Exported"),
    "erase": _l("Erased"),
    "denied": _l("Access refused"),
    "break_glass": _l("Emergency access"),
    "keys_rotated": _l("Keys rotated"),
    "keys_retired": _l("Old keys retired"),
    "keys_reindexed": _l("Blind indexes rebuilt"),
}
CASE_STATUS_LABELS = {
    "open": _l("Open"),
    "in_support": _l("In support"),
    "pending_closure": _l("Pending closure"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "erased": _l("Erased"),
}
