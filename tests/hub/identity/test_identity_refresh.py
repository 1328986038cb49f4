"""Replicas and workers share one identity index but only one of them links: the others
must see a new resolution (IdentityIndex.refresh), or a new resident is NOT_FOUND there."""

from __future__ import annotations

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import check_character
from hub.identity.index import IdentityIndex
from pingan.v1 import linkage_pb2


def _newcomer(encoder: LinkageEncoder, id_number: str) -> linkage_pb2.LinkageRecord:
    return linkage_pb2.LinkageRecord(
        dataset="people",
        local_record_id="newcomer-1",
        encoding=encoder.encode(
            IdentityFields(
                name="欧阳明",
                id_number=id_number,
                birth_date="1991-04-05",
                residence_address="西湖区文三路9号",
            )
        ),
        jurisdiction="西湖区/文新街道/1社区/3网格",
    )


def test_a_resolution_by_another_process_is_picked_up_by_refresh(
    database_url: str, encoded: dict[str, list[linkage_pb2.LinkageRecord]], encoder: LinkageEncoder
) -> None:
    linker = IdentityIndex(database_url)
    for department, batch in encoded.items():
        linker.apply_batch(department, batch, "w1")
    linker.resolve()
    replica = IdentityIndex(database_url)  # another worker: loads what is stored on first use
    first17 = "33010619910405003"
    query = encoder.encode_query(linkage_pb2.IdentityQuery(id_number=first17 + check_character(first17)))
    assert replica.lookup(query) == []
    assert replica.refresh() is False  # nothing resolved since it loaded

    linker.apply_batch("health", [_newcomer(encoder, first17 + check_character(first17))], "w2")
    linker.resolve()
    newcomer = linker.person_of("health", "people", "newcomer-1")
    assert newcomer is not None
    assert replica.lookup(query) == []  # still the state it loaded
    assert replica.refresh() is True
    assert [m.person_id for m in replica.lookup(query)] == [newcomer]
    assert replica.refresh() is False
