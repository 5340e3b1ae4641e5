"""The columns of an old register: each with its English name, its Vietnamese heading and other
spellings people use; headings are compared whatever their case, punctuation and accents."""

from __future__ import annotations

from functools import lru_cache

from app.places.names import known_forms, typed_forms, words

# canonical name: (Vietnamese heading, other spellings accepted)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "external_id": ("mã cũ", ("old id", "mã hồ sơ cũ")),
    "date": ("ngày tiếp nhận", ("call date", "ngày gọi", "ngày")),
    "time": ("giờ tiếp nhận", ("call time", "giờ gọi", "giờ")),
    "channel": ("kênh tiếp nhận", ("kênh",)),
    "caller_type": ("người gọi", ("caller",)),
    "reason": ("lý do gọi", ("lí do gọi", "lý do")),
    "caller_name": ("tên người gọi", ()),
    "caller_phone": ("số điện thoại người gọi", ("sđt người gọi",)),
    "survivor_name": ("họ tên", ("họ và tên", "name", "tên nạn nhân")),
    "phone": ("số điện thoại", ("sđt", "điện thoại", "survivor phone")),
    "sex": ("giới tính", ("survivor sex",)),
    "age": ("tuổi", ("survivor age",)),
    "age_band": ("nhóm tuổi", ()),
    "birth_date": ("ngày sinh", ("date of birth",)),
    "ethnicity": ("dân tộc", ()),
    "disability": ("khuyết tật", ()),
    "province": ("tỉnh/thành phố", ("tỉnh", "tỉnh thành", "province code")),
    "commune": ("xã/phường", ("phường/xã", "xã", "phường", "commune code")),
    "address": ("địa chỉ", ()),
    "safe_contact": ("liên hệ an toàn", ("cách liên hệ an toàn",)),
    "summary": ("tóm tắt", ("tóm tắt vụ việc", "nội dung")),
    "incident_date": ("ngày xảy ra", ("ngày xảy ra vụ việc",)),
    "place_type": ("nơi xảy ra", ("place",)),
    "acts": ("hành vi bạo lực", ("hành vi", "acts of violence")),
    "gbv_type": ("loại bạo lực giới", ("loại gbv",)),
    "gbv_context": ("bối cảnh", ("gbv context",)),
    "chi_category": ("nhóm vấn đề của trẻ", ("chi category", "child helpline category")),
    "description": ("mô tả sự việc", ("incident description",)),
    "perpetrator_relationship": (
        "quan hệ với người gây bạo lực",
        ("quan hệ", "relationship", "quan hệ với nạn nhân"),
    ),
    "perpetrator_sex": ("giới tính người gây bạo lực", ()),
    "perpetrator_age": ("tuổi người gây bạo lực", ()),
    "perpetrator_name": ("tên người gây bạo lực", ("người gây bạo lực",)),
    "alcohol_or_drugs": ("rượu bia, ma túy", ("rượu bia ma túy", "alcohol", "rượu bia")),
    "weapon_access": ("có vũ khí", ("weapon",)),
    "earlier_violence": ("từng gây bạo lực", ("earlier violence",)),
    "risk": ("mức độ nguy cơ", ("nguy cơ", "risk level")),
    "risk_factors": ("dấu hiệu nguy cơ", ("risk answers",)),
    "services": ("dịch vụ", ("dịch vụ cần", "services wanted")),
    "counselling": ("nội dung tư vấn", ("tư vấn đã thực hiện",)),
    "status": ("trạng thái", ("tình trạng",)),
    "closed_on": ("ngày đóng ca", ("closed", "ngày kết thúc")),
}
HEADINGS: dict[str, str] = {}
for _name, (_vi, _others) in COLUMNS.items():
    for _spelling in (_name, _vi, *_others):
        for _form in known_forms(_spelling):
            HEADINGS.setdefault(_form, _name)


@lru_cache(maxsize=4096)  # every row repeats the same headings
def column_of(heading: str) -> str | None:
    """The canonical column a heading names ("Giới tính", "sex", "gioi tinh" -> "sex")."""
    # A heading typed with some accents only ("Ngay tiếp nhận") is read without them too:
    # no two headings differ by their accents alone.
    for form in [*typed_forms(heading), ("bare", words(heading, accents=False))]:
        found = HEADINGS.get(form)
        if found:
            return found
    return None
