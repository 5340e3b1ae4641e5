"""The values each coded column accepts: codes, the labels of the code lists in either language,
and the everyday words registers use ("chồng", "Nữ", "đánh đập"). Values are compared with their
accents (a tone mark placed either way), or without only when typed without any
(app.places.names.typed_forms); a word that could mean two codes is not guessed."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app import classifications as c
from app.auth.labels import CASE_STATUS_LABELS
from app.cases import risk
from app.places.names import known_forms, typed_forms, words

SEEN_LIMIT = 10_000  # values remembered per column


@dataclass
class Vocabulary:
    """The values one column accepts, each read back to its code."""

    what: object  # "a sex": named in messages
    labels: dict
    aliases: dict[str, str] = field(default_factory=dict)
    suggest: bool = True  # list the labels in messages (short lists only)
    # Values read as written before anything else: the law's letter "d", which "đ" without
    # its accent would otherwise share (so "d" could mean two acts and be refused).
    exact: dict[str, str] = field(default_factory=dict)
    _keys: dict | None = field(default=None, repr=False)
    _seen: dict = field(default_factory=dict, repr=False)

    def match(self, text: str) -> str | None:
        """The code the text stands for, or None (unknown, or it could mean two codes)."""
        if text in self._seen:  # registers repeat the same few values on every row
            return self._seen[text]
        keys = self._keys if self._keys is not None else self._build()
        found = self.exact.get(words(text, accents=True))
        for form in typed_forms(text) if found is None else ():
            found = keys.get(form)
            if found is not None:
                found = found or None  # "" marks a word two codes share
                break
        if len(self._seen) < SEEN_LIMIT:
            self._seen[text] = found
        return found

    def _spellings(self) -> list[tuple[str, str]]:
        spellings: list[tuple[str, str]] = [(code, code) for code in self.labels]
        spellings += [(code.replace("_", " "), code) for code in self.labels]
        for locale in ("en", "vi"):
            with force_locale(locale):
                spellings += [(str(label), code) for code, label in self.labels.items()]
        return spellings + list(self.aliases.items())

    def _build(self) -> dict:
        keys: dict = {}
        for text, code in self._spellings():
            for key in known_forms(text):
                if key[1] and keys.setdefault(key, code) != code:
                    keys[key] = ""
        self._keys = keys
        return keys


SEX_WORDS = {
    "nữ": "female", "nữ giới": "female", "gái": "female", "f": "female", "woman": "female",
    "girl": "female", "nam": "male", "nam giới": "male", "trai": "male", "m": "male",
    "man": "male", "boy": "male", "khác": "other", "không rõ": "unknown",
    "không xác định": "unknown",
}  # fmt: skip
YES_NO_WORDS = {
    "có": "yes", "y": "yes", "x": "yes", "1": "yes", "true": "yes", "không": "no", "n": "no",
    "0": "no", "false": "no", "không có": "no", "không rõ": "unknown", "không biết": "unknown",
}  # fmt: skip
# An old register may show a case at any step short of erasure (see docs/import.md).
IMPORTED_STATUSES = ("open", "in_support", "pending_closure", "closed")
VOCABULARIES: dict[str, Vocabulary] = {
    "sex": Vocabulary(_l("a sex"), c.SEXES, SEX_WORDS),
    "perpetrator_sex": Vocabulary(_l("a sex"), c.SEXES, SEX_WORDS),
    "channel": Vocabulary(_l("a channel"), c.CHANNELS, {
        "điện thoại": "phone", "đt": "phone", "gọi điện": "phone", "tổng đài": "phone",
        "fb": "facebook", "messenger": "facebook", "tin nhắn": "sms", "nhắn tin": "sms",
        "trực tiếp": "walk_in", "đến trực tiếp": "walk_in", "gặp trực tiếp": "walk_in",
        "thư": "letter", "email": "letter", "thư điện tử": "letter",
    }),
    "caller_type": Vocabulary(_l("a kind of caller"), c.CALLER_TYPES, {
        "nạn nhân": "survivor", "bản thân": "survivor", "người bị bạo lực": "survivor",
        "trẻ em": "child_self", "trẻ tự gọi": "child_self", "người thân": "relative",
        "gia đình": "relative", "hàng xóm": "neighbour", "bạn bè": "neighbour",
        "giáo viên": "teacher", "nhà trường": "teacher", "cơ quan": "authority",
        "chính quyền": "authority", "công an": "authority", "giấu tên": "anonymous",
        "ẩn danh": "anonymous", "khác": "other",
    }),
    "reason": Vocabulary(_l("a reason for calling"), c.REASONS, {
        "bạo lực": "violence_report", "báo bạo lực": "violence_report",
        "báo cáo bạo lực": "violence_report", "tố giác": "violence_report",
        "tố cáo": "violence_report", "tư vấn": "counselling", "thông tin": "information",
        "hỏi thông tin": "information", "theo dõi": "follow_up", "gọi lại": "follow_up",
        "im lặng": "silent", "gọi im lặng": "silent", "quấy rối": "prank", "phá rối": "prank",
        "trêu đùa": "prank", "chọc phá": "prank", "nhầm số": "wrong_number",
        "gọi nhầm": "wrong_number",
    }),
    "age_band": Vocabulary(_l("an age band"), c.AGE_BANDS, {
        "dưới 16": "under_16", "<16": "under_16", "trẻ em": "under_16", "16-59": "16_59",
        "từ 16 đến 59": "16_59", "60+": "60_plus", "trên 60": "60_plus", "từ 60": "60_plus",
        "người cao tuổi": "60_plus", "không rõ": "unknown",
    }),
    "ethnicity": Vocabulary(
        _l("an ethnic group"),
        c.ETHNICITIES,
        {str(int(code)): code for code in c.ETHNICITIES} | {"kinh (việt)": "01", "mông": "08"},
        suggest=False,
    ),
    "disability": Vocabulary(_l("a disability"), c.DISABILITIES, {
        "không": "none", "không có": "none", "vận động": "physical", "khiếm thị": "sensory",
        "khiếm thính": "sensory", "trí tuệ": "intellectual", "tâm thần": "psychosocial",
        "đa tật": "multiple", "không rõ": "unknown",
    }, suggest=False),
    "place_type": Vocabulary(_l("a place"), c.PLACE_TYPES, {
        "nhà": "home", "tại nhà": "home", "nhà chung": "home", "nhà nạn nhân": "survivor_home",
        "nhà người thân": "relative_home", "nhà họ hàng": "relative_home",
        "nơi làm việc": "workplace", "công ty": "workplace", "trường": "school",
        "trường học": "school", "nơi công cộng": "public", "ngoài đường": "public",
        "trên mạng": "online", "qua mạng": "online", "mạng xã hội": "online",
        "qua điện thoại": "online", "khác": "other", "không rõ": "unknown",
    }, suggest=False),
    "acts": Vocabulary(_l("an act of violence"), c.ACT_LABELS, {
        **{code.split("_")[0]: code for code in c.ACT_LABELS}, "đ": "dd_discrimination",
        "đánh": "a_beating", "đánh đập": "a_beating", "hành hạ": "a_beating",
        "ngược đãi": "a_beating", "đe dọa": "a_beating", "chửi": "b_insults",
        "chửi bới": "b_insults", "lăng mạ": "b_insults", "xúc phạm": "b_insults",
        "sỉ nhục": "b_insults", "bỏ mặc": "d_neglect", "bỏ bê": "d_neglect",
        "kỳ thị": "dd_discrimination", "phân biệt đối xử": "dd_discrimination",
        "cô lập": "e_isolation", "cấm gặp": "e_isolation", "cưỡng ép quan hệ": "i_forced_sex",
        "cưỡng ép quan hệ tình dục": "i_forced_sex", "hiếp dâm": "i_forced_sex",
        "cưỡng hiếp": "i_forced_sex", "ép hôn": "l_forced_marriage",
        "tảo hôn": "l_forced_marriage", "chiếm đoạt tài sản": "m_property",
        "hủy hoại tài sản": "m_property", "đập phá": "m_property",
        "đập phá đồ đạc": "m_property", "kiểm soát tiền": "n_economic_control",
        "kiểm soát thu nhập": "n_economic_control", "ép lao động": "n_economic_control",
        "giam giữ": "o_confinement", "nhốt": "o_confinement", "đuổi ra khỏi nhà": "p_eviction",
        "đuổi khỏi nhà": "p_eviction",
    }, suggest=False, exact={"d": "d_neglect"}),
    "gbv_type": Vocabulary(_l("a GBVIMS type"), c.GBV_TYPES, {
        "hiếp dâm": "rape", "xâm hại tình dục": "sexual_assault", "hành hung": "physical_assault",
        "cưỡng ép kết hôn": "forced_marriage", "bạo lực tâm lý": "psychological",
    }, suggest=False),
    "gbv_context": Vocabulary(_l("a GBVIMS context"), c.GBV_CONTEXTS, {
        "bạo lực bạn tình": "intimate_partner", "xâm hại tình dục trẻ em": "child_sexual_abuse",
        "tảo hôn": "early_marriage", "mua bán người": "trafficking",
        "bóc lột tình dục": "sexual_exploitation", "không": "none",
    }, suggest=False),
    "chi_category": Vocabulary(_l("a child helpline category"), c.CHI_CATEGORIES, {
        "bắt nạt": "bullying", "bạo lực học đường": "bullying", "bạo lực thể chất": "physical",
        "bạo lực thân thể": "physical", "bạo lực tinh thần": "psychological",
        "bạo lực tâm lý": "psychological", "xâm hại tình dục": "sexual",
        "bỏ mặc": "neglect", "sao nhãng": "neglect", "lao động trẻ em": "child_labour",
        "tảo hôn": "early_marriage", "không phải bạo lực": "non_violence",
    }, suggest=False),
    "perpetrator_relationship": Vocabulary(_l("a relationship"), c.RELATIONSHIPS, {
        "chồng": "intimate_partner", "vợ": "intimate_partner", "người yêu": "intimate_partner",
        "bạn trai": "intimate_partner", "bạn gái": "intimate_partner",
        "husband": "intimate_partner", "wife": "intimate_partner",
        "boyfriend": "intimate_partner", "girlfriend": "intimate_partner",
        "partner": "intimate_partner", "chồng cũ": "former_partner", "vợ cũ": "former_partner",
        "người yêu cũ": "former_partner", "ex-husband": "former_partner",
        "ex-wife": "former_partner", "bố": "parent_caregiver", "cha": "parent_caregiver",
        "mẹ": "parent_caregiver", "bố dượng": "parent_caregiver", "cha dượng": "parent_caregiver",
        "mẹ kế": "parent_caregiver", "người giám hộ": "parent_caregiver",
        "father": "parent_caregiver", "mother": "parent_caregiver",
        "stepfather": "parent_caregiver", "stepmother": "parent_caregiver",
        "con": "family_other", "con trai": "family_other", "con gái": "family_other",
        "con rể": "family_other", "con dâu": "family_other", "anh": "family_other",
        "chị": "family_other", "em": "family_other", "anh trai": "family_other",
        "em trai": "family_other", "ông": "family_other", "bà": "family_other",
        "cháu": "family_other", "bố chồng": "family_other", "mẹ chồng": "family_other",
        "bố vợ": "family_other", "mẹ vợ": "family_other", "họ hàng": "family_other",
        "son": "family_other", "brother": "family_other", "ba": "parent_caregiver",
        "má": "parent_caregiver",
        "tía": "parent_caregiver", "chú": "family_other",
        "cô": "family_other", "dì": "family_other", "cậu": "family_other", "bác": "family_other",
        "thím": "family_other", "mợ": "family_other", "bồ": "intimate_partner",
        "bồ cũ": "former_partner", "chủ": "employer",
        "chủ lao động": "employer", "giáo viên": "teacher", "thầy giáo": "teacher",
        "cô giáo": "teacher", "bạn học": "schoolmate", "người ở cùng": "housemate",
        "hàng xóm": "neighbour", "bạn của gia đình": "neighbour", "neighbor": "neighbour",
        "người lạ": "stranger", "không quen biết": "stranger", "không rõ": "unknown",
    }, suggest=False),
    "perpetrator_age": Vocabulary(_l("an age band"), c.PERPETRATOR_AGE_BANDS, {
        "không rõ": "unknown",
    }),
    "alcohol_or_drugs": Vocabulary(_l("a yes or no"), c.YES_NO_UNKNOWN, YES_NO_WORDS),
    "weapon_access": Vocabulary(_l("a yes or no"), c.YES_NO_UNKNOWN, YES_NO_WORDS),
    "earlier_violence": Vocabulary(_l("a yes or no"), c.YES_NO_UNKNOWN, YES_NO_WORDS),
    "risk": Vocabulary(_l("a risk level"), c.RISK_LEVELS, {
        "thấp": "low", "trung bình": "medium", "vừa": "medium", "cao": "high",
        "rất cao": "severe", "nghiêm trọng": "severe", "đặc biệt nghiêm trọng": "severe",
    }),
    "risk_factors": Vocabulary(_l("a risk checklist question"), risk.QUESTIONS, {
        "bóp cổ": "strangulation", "đe dọa giết": "threats_to_kill",
        "dùng vũ khí": "weapon_used", "có thai": "pregnant", "mang thai": "pregnant",
        "nghiện rượu": "substance", "ma túy": "substance", "tự tử": "suicide_threats",
    }, suggest=False),
    "services": Vocabulary(_l("a service"), c.SERVICES, {
        "y tế": "health", "chăm sóc y tế": "health", "khám chữa bệnh": "health",
        "tư vấn": "counselling", "tâm lý": "counselling", "pháp lý": "legal",
        "pháp luật": "legal", "tạm lánh": "shelter", "nhà tạm lánh": "shelter",
        "nơi tạm lánh": "shelter", "công an": "police", "cảnh sát": "police",
        "trợ giúp xã hội": "social", "trợ cấp": "social", "bảo vệ trẻ em": "child_protection",
    }),
    "status": Vocabulary(
        _l("a case status"),
        {k: v for k, v in CASE_STATUS_LABELS.items() if k in IMPORTED_STATUSES},
        {
            "mở": "open", "mới": "open", "đang xử lý": "in_support", "chờ đóng": "pending_closure",
            "đóng": "closed", "đã đóng": "closed", "kết thúc": "closed", "hoàn thành": "closed",
            "đã kết thúc": "closed",
        },
    ),
}  # fmt: skip
# A form of violence names no act: the register must say which acts (see docs/import.md).
FORM_WORDS = {
    words(w, accents=False)
    for w in ("thể chất", "tinh thần", "tình dục", "kinh tế", *c.FORMS, "bạo lực thể chất")
}
