"""The code lists of calls and cases: stored as codes, shown with labels in the user's language.

Sources: Law 13/2022/QH15 on domestic violence prevention and control (art. 3(1): the acts,
each mapped to one of the four forms of the national statistics), the GBVIMS core incident types
and contexts, Child Helpline International's contact categories, the GBVIMS perpetrator
relationships and age bands, and the national reporting age bands (under 16 / 16-59 / 60+).
See docs/classifications.md for the full table and docs/risk.md for the risk checklist.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CHANNELS = {
    "phone": _l("Phone"),
    "zalo": _l("Zalo"),
    "facebook": _l("Facebook"),
    "sms": _l("SMS"),
    "walk_in": _l("Walk-in"),
    "letter": _l("Letter or email"),
}
CALLER_TYPES = {
    "survivor": _l("The survivor"),
    "child_self": _l("A child calling for themself"),
    "relative": _l("A relative"),
    "neighbour": _l("A neighbour or friend"),
    "teacher": _l("A teacher or school"),
    "authority": _l("An authority or agency"),
    "anonymous": _l("Would not say"),
    "other": _l("Someone else"),
}
REASONS = {
    "violence_report": _l("Violence report"),
    "counselling": _l("Counselling only"),
    "information": _l("Information request"),
    "follow_up": _l("Follow-up on a case"),
    "silent": _l("Silent call"),
    "prank": _l("Prank or abusive"),
    "wrong_number": _l("Wrong number"),
}
# Reasons that never open a case: the short form is enough.
SHORT_REASONS = ("counselling", "information", "silent", "prank", "wrong_number")
CALL_OUTCOMES = {
    "counselled": _l("Counselling given"),
    "informed": _l("Information given"),
    "referred": _l("Referred to a service"),
    "emergency": _l("Emergency services called"),
    "case_opened": _l("Case opened or updated"),
    "call_back": _l("Call back agreed"),
    "cut_off": _l("Call cut off"),
    "no_action": _l("Nothing needed"),
}
CALLER_FLAGS = {
    "abusive": _l("Abusive caller"),
    "repeat_silent": _l("Repeated silent calls"),
    "high_risk": _l("High risk"),
    "perpetrator_calling": _l("The perpetrator may call"),
}
DANGER_QUESTIONS = {
    "danger_now": _l("In danger right now"),
    "injured": _l("Injured"),
    "weapon_or_threat": _l("Weapon used or threats to kill"),
    "child_involved": _l("A child is involved"),
    "pregnant": _l("Pregnant"),
}
EMERGENCY_ACTIONS = {
    "police_113": _l("Police called (113)"),
    "ambulance_115": _l("Ambulance called (115)"),
    "child_111": _l("Child protection hotline (111)"),
    "fire_114": _l("Fire and rescue called (114)"),
    "commune_chair": _l("Commune chair notified"),
    "no_contact_request": _l("Prohibition of contact requested"),
}
SEXES = {
    "female": _l("Female"),
    "male": _l("Male"),
    "other": _l("Other"),
    "unknown": _l("Unknown"),
}
# National DV reporting age bands; child = under 16 (Law on Children 2016).
AGE_BANDS = {
    "under_16": _l("Under 16"),
    "16_59": _l("16 to 59"),
    "60_plus": _l("60 and over"),
    "unknown": _l("Unknown"),
}
PERPETRATOR_AGE_BANDS = {
    "0_11": "0-11",
    "12_17": "12-17",
    "18_25": "18-25",
    "26_40": "26-40",
    "41_60": "41-60",
    "61_plus": "61+",
    "unknown": _l("Unknown"),
}
DISABILITIES = {
    "none": _l("No disability"),
    "physical": _l("Physical or mobility"),
    "sensory": _l("Seeing or hearing"),
    "intellectual": _l("Intellectual"),
    "psychosocial": _l("Psychosocial"),
    "multiple": _l("More than one"),
    "unknown": _l("Not known"),
}
# The 54 ethnic groups of Vietnam (General Statistics Office list), shown by their own names.
ETHNICITIES = {
    f"{n:02d}": name
    for n, name in enumerate(
        "Kinh,Tày,Thái,Mường,Khmer,Hoa,Nùng,H'Mông,Dao,Gia Rai,Ê Đê,Ba Na,Sán Chay,Chăm,"
        "Cơ Ho,Xơ Đăng,Sán Dìu,Hrê,Ra Glai,Mnông,Thổ,Stiêng,Khơ mú,Bru Vân Kiều,Cơ Tu,Giáy,"
        "Tà Ôi,Mạ,Giẻ Triêng,Co,Chơ Ro,Xinh Mun,Hà Nhì,Chu Ru,Lào,Kháng,La Chí,Phù Lá,La Hủ,"
        "La Ha,Pà Thẻn,Chứt,Lự,Lô Lô,Mảng,Cờ Lao,Bố Y,Cống,Ngái,Si La,Pu Péo,Rơ Măm,Brâu,"
        "Ơ Đu".split(","),
        start=1,
    )
}
PLACE_TYPES = {
    "home": _l("Shared home"),
    "survivor_home": _l("Survivor's home"),
    "relative_home": _l("A relative's home"),
    "workplace": _l("Workplace"),
    "school": _l("School"),
    "public": _l("Public place"),
    "online": _l("Online or by phone"),
    "other": _l("Other"),
    "unknown": _l("Unknown"),
}
FORMS = {
    "physical": _l("Physical"),
    "psychological": _l("Psychological"),
    "sexual": _l("Sexual"),
    "economic": _l("Economic"),
}
# Law 13/2022/QH15 art. 3(1), letter by letter, each with its statistical form.
ACTS = {
    "a_beating": (_l("Beating, ill-treatment, threats to life or health"), "physical"),
    "b_insults": (_l("Insults or attacks on honour and dignity"), "psychological"),
    "c_forced_witness": (_l("Forcing someone to witness violence"), "psychological"),
    "d_neglect": (_l("Neglect of a dependent family member"), "psychological"),
    "dd_discrimination": (_l("Stigma or discrimination"), "psychological"),
    "e_isolation": (_l("Keeping someone from relatives or friends"), "psychological"),
    "g_family_rights": (_l("Obstructing family rights and duties"), "psychological"),
    "h_disclosure": (_l("Disclosing private or family secrets"), "psychological"),
    "i_forced_sex": (
        _l("Forced sex, pregnancy, abortion or sex selection"),
        "sexual",
    ),
    "k_pornography": (_l("Forcing someone to view pornography"), "sexual"),
    "l_forced_marriage": (_l("Forced or child marriage, or forced divorce"), "psychological"),
    "m_property": (_l("Seizing or destroying property"), "economic"),
    "n_economic_control": (_l("Forced labour or control of money"), "economic"),
    # "Cô lập, giam cầm": isolation is psychological in the national forms (migration 0010).
    "o_confinement": (_l("Isolating or confining someone"), "psychological"),
    "p_eviction": (_l("Forcing someone out of the home"), "economic"),
}
ACT_LABELS = {code: label for code, (label, _form) in ACTS.items()}
GBV_TYPES = {
    "rape": _l("Rape"),
    "sexual_assault": _l("Sexual assault"),
    "physical_assault": _l("Physical assault"),
    "forced_marriage": _l("Forced marriage"),
    "denial_of_resources": _l("Denial of resources, opportunities or services"),
    "psychological": _l("Psychological or emotional abuse"),
    "non_gbv": _l("Not gender-based violence"),
}
GBV_CONTEXTS = {
    "none": _l("None of these"),
    "intimate_partner": _l("Intimate partner violence"),
    "child_sexual_abuse": _l("Child sexual abuse"),
    "early_marriage": _l("Early marriage"),
    "trafficking": _l("Trafficking"),
    "sexual_exploitation": _l("Sexual exploitation"),
}
CHI_CATEGORIES = {
    "bullying": _l("Bullying"),
    "physical": _l("Physical violence"),
    "psychological": _l("Psychological violence"),
    "sexual": _l("Sexual violence"),
    "neglect": _l("Neglect"),
    "child_labour": _l("Child labour"),
    "early_marriage": _l("Early or forced marriage"),
    "non_violence": _l("Not about violence"),
}
RELATIONSHIPS = {
    "intimate_partner": _l("Intimate partner"),
    "former_partner": _l("Former partner"),
    "parent_caregiver": _l("Parent or caregiver"),
    "family_other": _l("Other family member"),
    "employer": _l("Employer or supervisor"),
    "teacher": _l("Teacher or school staff"),
    "schoolmate": _l("Schoolmate"),
    "housemate": _l("Housemate"),
    "neighbour": _l("Family friend or neighbour"),
    "service_provider": _l("Service provider"),
    "community": _l("Other community member"),
    "stranger": _l("Stranger"),
    "unknown": _l("Unknown"),
}
YES_NO_UNKNOWN = {"yes": _l("Yes"), "no": _l("No"), "unknown": _l("Not known")}
# The basic support services of the national indicator; GBVIMS consent groups follow them.
SERVICES = {
    "health": _l("Health care"),
    "counselling": _l("Psychological counselling"),
    "legal": _l("Legal aid"),
    "shelter": _l("Safe shelter"),
    "police": _l("Police and protection orders"),
    "social": _l("Social assistance"),
    "child_protection": _l("Child protection"),
}
CONSENT_GIVERS = {
    "survivor": _l("The survivor"),
    "child_and_guardian": _l("The child and a guardian"),
    "guardian": _l("A guardian only"),
    "not_asked": _l("Could not be asked"),
}
RISK_LEVELS = {
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "severe": _l("Severe"),
}
TASK_KINDS = {
    "child_12h": _l("Child at serious risk: act within 12 hours"),
    "notify_commune": _l("Notify the commune People's Committee"),
    "no_contact_12h": _l("Prohibition of contact: check the commune chair's decision"),
    "follow_up_call": _l("Follow-up call"),
    "safety_review": _l("Safety re-assessment"),
    "other": _l("Other task"),
}
# The duties of law a case is not closed with open (Law 13/2022: the commune chair notified of
# every report; Decree 56/2017: a child at serious risk acted on within 12 hours; a request for
# prohibition of contact followed to its decision): the closure is neither asked for nor
# approved until each is marked done, with a note of what was done (or why it was not needed),
# so none ends unseen with the case (cases.services.change_status, casework.complete_task).
CLOSING_DUTIES = ("notify_commune", "child_12h", "no_contact_12h")
# What ended a task no one did (Task.ended_by).
TASK_ENDINGS = {
    "closed": _l("Ended with the case's closure"),
    "erased": _l("Ended with the case's erasure"),
    "not_child": _l("Ended: the survivor is 16 or over"),
}
NOTE_KINDS = {
    "note": _l("Note"),
    "counselling": _l("Counselling session"),
    "contact_attempt": _l("Contact attempt"),
}
# Why a case is erased: a code only (the audit log keeps it; never free text about the person).
ERASE_REASONS = {
    "survivor_request": _l("The survivor asked for their data to be deleted (Law 91/2025)"),
    "guardian_request": _l("A child's parent or guardian asked for the data to be deleted"),
    "retention_ended": _l("The retention period has ended"),
    "recorded_in_error": _l("Recorded in error (a test, or the wrong person)"),
}

ALL_LISTS = {
    "channel": CHANNELS,
    "caller_type": CALLER_TYPES,
    "reason": REASONS,
    "outcome": CALL_OUTCOMES,
    "flag": CALLER_FLAGS,
    "emergency": EMERGENCY_ACTIONS,
    "sex": SEXES,
    "age_band": AGE_BANDS,
    "perpetrator_age_band": PERPETRATOR_AGE_BANDS,
    "disability": DISABILITIES,
    "ethnicity": ETHNICITIES,
    "place_type": PLACE_TYPES,
    "act": ACT_LABELS,
    "form": FORMS,
    "gbv_type": GBV_TYPES,
    "gbv_context": GBV_CONTEXTS,
    "chi_category": CHI_CATEGORIES,
    "relationship": RELATIONSHIPS,
    "yes_no": YES_NO_UNKNOWN,
    "service": SERVICES,
    "consent_giver": CONSENT_GIVERS,
    "risk_level": RISK_LEVELS,
    "task_kind": TASK_KINDS,
    "task_ending": TASK_ENDINGS,
    "note_kind": NOTE_KINDS,
    "erase_reason": ERASE_REASONS,
}


def forms_of(acts: list[str]) -> list[str]:
    """The statistical forms the given acts fall under, in the order of FORMS."""
    found = {ACTS[a][1] for a in acts if a in ACTS}
    return [f for f in FORMS if f in found]


def age_band(age: int | None) -> str:
    """The national reporting band of an age in years."""
    if age is None:
        return "unknown"
    if age < 16:
        return "under_16"
    return "16_59" if age < 60 else "60_plus"


def codes(value: str | None) -> list[str]:
    """A space-separated code list as stored, back into a list."""
    return value.split() if value else []
