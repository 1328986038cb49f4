"""Profile request validation: the right status, the field named, the value never echoed."""

import uuid

import grpc
import pytest

from hub.profile.request import parse_household_request, parse_profile_request
from pingan.serving import StatusError
from pingan.v1 import profile_pb2

ID = "110105199003071234"


def _req(**query) -> profile_pb2.GetPersonProfileRequest:  # type: ignore[no-untyped-def]
    return profile_pb2.GetPersonProfileRequest(query=profile_pb2.PersonQuery(**query), purpose="routine_visit")


def test_valid_requests_parse() -> None:
    ask = parse_profile_request(_req(id_number=ID))
    assert ask.lookup is not None and ask.lookup.kind == "id_number"
    assert ask.lookup.identity is not None and ask.lookup.identity.id_number == ID
    assert len(ask.request_id) == 32  # generated
    assert ID not in repr(ask.lookup)
    full_width = ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    folded = parse_profile_request(_req(id_number=full_width))
    assert folded.lookup is not None and folded.lookup.identity is not None
    assert folded.lookup.identity.id_number == ID
    ask = parse_profile_request(_req(person_id="p_0001"))
    assert ask.lookup is not None and ask.lookup.person_id == "p_0001"
    nb = profile_pb2.NameAndBirthDate(name="张三", birth_date="1990年3月7日")
    assert parse_profile_request(_req(name_and_birth_date=nb)).lookup.kind == "name_and_birth_date"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (profile_pb2.GetPersonProfileRequest(purpose="routine_visit"), "query"),
        (_req(id_number="12345"), "query.id_number"),
        (_req(phone="12"), "query.phone"),
        (_req(person_id="x"), "query.person_id"),
        (_req(name_and_birth_date=profile_pb2.NameAndBirthDate(name="张三")), "birth_date"),
        (profile_pb2.GetPersonProfileRequest(query=profile_pb2.PersonQuery(person_id="p_0001")), "purpose"),
        (profile_pb2.GetPersonProfileRequest(query=profile_pb2.PersonQuery(person_id="p_0001"), purpose="Bad Purpose"), "purpose"),
        (
            profile_pb2.GetPersonProfileRequest(
                query=profile_pb2.PersonQuery(person_id="p_0001"), purpose="routine_visit", request_id="short"
            ),
            "request_id",
        ),
        (
            profile_pb2.GetPersonProfileRequest(
                query=profile_pb2.PersonQuery(person_id="p_0001"), purpose="routine_visit", justification="x" * 2001
            ),
            "justification",
        ),
    ],
)
def test_invalid_requests_name_the_field(request_: profile_pb2.GetPersonProfileRequest, field: str) -> None:
    with pytest.raises(StatusError) as info:
        parse_profile_request(request_)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in info.value.message


def test_bad_id_number_is_not_echoed() -> None:
    with pytest.raises(StatusError) as info:
        parse_profile_request(_req(id_number="11010519900307123"))
    assert "11010519900307123" not in info.value.message


def test_household_request_needs_exactly_one_way() -> None:
    with pytest.raises(StatusError):
        parse_household_request(profile_pb2.GetHouseholdRequest(purpose="assistance"))
    with pytest.raises(StatusError):
        parse_household_request(
            profile_pb2.GetHouseholdRequest(
                household_id="h_0001", query=profile_pb2.PersonQuery(person_id="p_0001"), purpose="assistance"
            )
        )
    ask = parse_household_request(profile_pb2.GetHouseholdRequest(household_id="h_0001", purpose="assistance"))
    assert ask.household_id == "h_0001" and ask.lookup is None


def _common_req(**fields) -> profile_pb2.GetPersonProfileRequest:  # type: ignore[no-untyped-def]
    base = {"query": profile_pb2.PersonQuery(person_id="p_0001"), "purpose": "routine_visit"}
    return profile_pb2.GetPersonProfileRequest(**{**base, **fields})


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_common_req(purpose="routine_visit\n"), "purpose"),
        (_common_req(request_id="req-0001-abcd\n"), "request_id"),
        (_req(person_id="p_0001\n"), "query.person_id"),
    ],
)
def test_a_trailing_newline_is_not_accepted(request_: profile_pb2.GetPersonProfileRequest, field: str) -> None:
    # `$` matches before a final newline; the patterns end in \Z and are applied whole.
    with pytest.raises(StatusError) as info:
        parse_profile_request(request_)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.message.startswith(field)
    with pytest.raises(StatusError):
        parse_household_request(
            profile_pb2.GetHouseholdRequest(household_id="h_0001", purpose="assistance\n")
        )


READABLE_PHONES = [
    "13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000", "8613800138000",
    "010-12345678", "(0571) 8765 4321", "+86 10 1234 5678", "021-66668888 转 123", "13800138000 ext. 9",
    "１３８００１３８０００",
]  # fmt: skip
UNREADABLE_PHONES = [
    "1234567", "99999999999", "12345678901", "12345678901234567890", "0101234", "+1 212 555 0100",
    "13800138000" + "-" * 300, "1380013800012",
]  # fmt: skip


def test_only_phones_the_adapters_read_are_accepted() -> None:
    for phone in READABLE_PHONES:
        ask = parse_profile_request(_req(phone=phone))
        assert ask.lookup is not None and ask.lookup.kind == "phone", phone
    for phone in UNREADABLE_PHONES:
        with pytest.raises(StatusError) as info:
            parse_profile_request(_req(phone=phone))
        assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT, phone
        message = info.value.message
        assert message.startswith("query.phone:") and "mobile" in message, phone
        assert phone.strip("-") not in message


def test_the_hub_reads_phones_exactly_as_the_adapters_do() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from adapters.linkage.phone import normalize_phone
    from hub.profile.request import MAX_PHONE_CHARS, readable_phone

    for phone in READABLE_PHONES + UNREADABLE_PHONES:
        if len(phone) <= MAX_PHONE_CHARS:
            assert readable_phone(phone) == (normalize_phone(phone) is not None), phone

    @settings(max_examples=500, deadline=None)
    @given(st.text(alphabet="0123456789013800+-() x#转ext.８６\n", max_size=MAX_PHONE_CHARS))
    def agree(phone: str) -> None:
        assert readable_phone(phone) == (normalize_phone(phone) is not None)

    agree()


@pytest.mark.parametrize(
    "request_id",
    ["202405011234567890", "x-13812345678", "req_110105199003071234", "a.130912345678901.b", "id:11010519900307123X"],
)
def test_a_request_id_with_an_id_or_phone_shaped_digit_run_is_refused(request_id: str) -> None:
    from audit.entry import refuse_raw_identifiers
    from audit.errors import EntryError

    with pytest.raises(EntryError):  # what the audit log would do with it
        refuse_raw_identifiers(request_id.encode(), "test")
    for parse, request_ in (
        (parse_profile_request, _common_req(request_id=request_id)),
        (parse_household_request, profile_pb2.GetHouseholdRequest(household_id="h_0001", purpose="assistance", request_id=request_id)),
    ):
        with pytest.raises(StatusError) as info:
            parse(request_)  # type: ignore[operator]
        assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.message.startswith("request_id:") and "digit run" in info.value.message
        assert request_id not in info.value.message


def test_request_ids_the_audit_log_can_store_are_accepted() -> None:
    from hub.profile.request import valid_request_id

    # digit runs of other lengths, or glued to letters, are no ID or phone number to the audit log
    for request_id in ("req-2024-05-01-0001", "abc13812345678", "x-12345678901", "2024050112345678", uuid.uuid4().hex):
        assert parse_profile_request(_common_req(request_id=request_id)).request_id == request_id
        assert valid_request_id(request_id)
    assert not valid_request_id("x-13812345678") and not valid_request_id("req-0001-abcd\n")
