"""Profile request validation: the right status, the field named, the value never echoed."""

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
