import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from pingan.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NameAndBirthDate(_message.Message):
    __slots__ = ("name", "birth_date")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    birth_date: str
    def __init__(self, name: _Optional[str] = ..., birth_date: _Optional[str] = ...) -> None: ...

class PersonQuery(_message.Message):
    __slots__ = ("person_id", "id_number", "phone", "name_and_birth_date")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    NAME_AND_BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    id_number: str
    phone: str
    name_and_birth_date: NameAndBirthDate
    def __init__(self, person_id: _Optional[str] = ..., id_number: _Optional[str] = ..., phone: _Optional[str] = ..., name_and_birth_date: _Optional[_Union[NameAndBirthDate, _Mapping]] = ...) -> None: ...

class AuditReceipt(_message.Message):
    __slots__ = ("entry_index", "checkpoint", "request_id")
    ENTRY_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    entry_index: int
    checkpoint: str
    request_id: str
    def __init__(self, entry_index: _Optional[int] = ..., checkpoint: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetPersonProfileRequest(_message.Message):
    __slots__ = ("query", "purpose", "justification", "request_id")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    query: PersonQuery
    purpose: str
    justification: str
    request_id: str
    def __init__(self, query: _Optional[_Union[PersonQuery, _Mapping]] = ..., purpose: _Optional[str] = ..., justification: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ProfileHeader(_message.Message):
    __slots__ = ("person_id", "masked_name", "sex", "age_band", "jurisdiction", "risk_level", "responsible_helper", "flags", "groups")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    MASKED_NAME_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    AGE_BAND_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_HELPER_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    masked_name: str
    sex: str
    age_band: str
    jurisdiction: str
    risk_level: str
    responsible_helper: str
    flags: _containers.RepeatedScalarFieldContainer[str]
    groups: _containers.RepeatedScalarFieldContainer[_common_pb2.SensitiveGroup]
    def __init__(self, person_id: _Optional[str] = ..., masked_name: _Optional[str] = ..., sex: _Optional[str] = ..., age_band: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., risk_level: _Optional[str] = ..., responsible_helper: _Optional[str] = ..., flags: _Optional[_Iterable[str]] = ..., groups: _Optional[_Iterable[_Union[_common_pb2.SensitiveGroup, str]]] = ...) -> None: ...

class DepartmentSection(_message.Message):
    __slots__ = ("department", "outcome", "reason", "records")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    department: str
    outcome: _common_pb2.SectionOutcome
    reason: str
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    def __init__(self, department: _Optional[str] = ..., outcome: _Optional[_Union[_common_pb2.SectionOutcome, str]] = ..., reason: _Optional[str] = ..., records: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ...) -> None: ...

class HouseholdMember(_message.Message):
    __slots__ = ("person_id", "masked_name", "relationship", "age_band", "audit")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    MASKED_NAME_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    AGE_BAND_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    masked_name: str
    relationship: str
    age_band: str
    audit: AuditReceipt
    def __init__(self, person_id: _Optional[str] = ..., masked_name: _Optional[str] = ..., relationship: _Optional[str] = ..., age_band: _Optional[str] = ..., audit: _Optional[_Union[AuditReceipt, _Mapping]] = ...) -> None: ...

class GetPersonProfileResponse(_message.Message):
    __slots__ = ("header", "sections", "household", "audit")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    header: ProfileHeader
    sections: _containers.RepeatedCompositeFieldContainer[DepartmentSection]
    household: _containers.RepeatedCompositeFieldContainer[HouseholdMember]
    audit: AuditReceipt
    def __init__(self, header: _Optional[_Union[ProfileHeader, _Mapping]] = ..., sections: _Optional[_Iterable[_Union[DepartmentSection, _Mapping]]] = ..., household: _Optional[_Iterable[_Union[HouseholdMember, _Mapping]]] = ..., audit: _Optional[_Union[AuditReceipt, _Mapping]] = ...) -> None: ...

class GetHouseholdRequest(_message.Message):
    __slots__ = ("household_id", "query", "purpose", "justification", "request_id")
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    query: PersonQuery
    purpose: str
    justification: str
    request_id: str
    def __init__(self, household_id: _Optional[str] = ..., query: _Optional[_Union[PersonQuery, _Mapping]] = ..., purpose: _Optional[str] = ..., justification: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetHouseholdResponse(_message.Message):
    __slots__ = ("household_id", "members", "headers", "flags", "audit")
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    members: _containers.RepeatedCompositeFieldContainer[HouseholdMember]
    headers: _containers.RepeatedCompositeFieldContainer[ProfileHeader]
    flags: _containers.RepeatedScalarFieldContainer[str]
    audit: AuditReceipt
    def __init__(self, household_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[HouseholdMember, _Mapping]]] = ..., headers: _Optional[_Iterable[_Union[ProfileHeader, _Mapping]]] = ..., flags: _Optional[_Iterable[str]] = ..., audit: _Optional[_Union[AuditReceipt, _Mapping]] = ...) -> None: ...

class WatchAlertsRequest(_message.Message):
    __slots__ = ("kinds",)
    KINDS_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kinds: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchAlertsResponse(_message.Message):
    __slots__ = ("alert_id", "kind", "person_id", "department", "risk_level", "responsible_helper", "detail", "raised_at")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_HELPER_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    kind: str
    person_id: str
    department: str
    risk_level: str
    responsible_helper: str
    detail: str
    raised_at: _timestamp_pb2.Timestamp
    def __init__(self, alert_id: _Optional[str] = ..., kind: _Optional[str] = ..., person_id: _Optional[str] = ..., department: _Optional[str] = ..., risk_level: _Optional[str] = ..., responsible_helper: _Optional[str] = ..., detail: _Optional[str] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SharingStatsRequest(_message.Message):
    __slots__ = ("since", "until", "jurisdiction")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    jurisdiction: str
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., jurisdiction: _Optional[str] = ...) -> None: ...

class PairSharing(_message.Message):
    __slots__ = ("requesting_department", "providing_department", "clear", "masked", "denied", "unavailable", "sharing_rate")
    REQUESTING_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PROVIDING_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    CLEAR_FIELD_NUMBER: _ClassVar[int]
    MASKED_FIELD_NUMBER: _ClassVar[int]
    DENIED_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    SHARING_RATE_FIELD_NUMBER: _ClassVar[int]
    requesting_department: str
    providing_department: str
    clear: int
    masked: int
    denied: int
    unavailable: int
    sharing_rate: float
    def __init__(self, requesting_department: _Optional[str] = ..., providing_department: _Optional[str] = ..., clear: _Optional[int] = ..., masked: _Optional[int] = ..., denied: _Optional[int] = ..., unavailable: _Optional[int] = ..., sharing_rate: _Optional[float] = ...) -> None: ...

class JurisdictionSharing(_message.Message):
    __slots__ = ("jurisdiction", "sections", "sharing_rate")
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    SHARING_RATE_FIELD_NUMBER: _ClassVar[int]
    jurisdiction: str
    sections: int
    sharing_rate: float
    def __init__(self, jurisdiction: _Optional[str] = ..., sections: _Optional[int] = ..., sharing_rate: _Optional[float] = ...) -> None: ...

class SharingStatsResponse(_message.Message):
    __slots__ = ("pairs", "jurisdictions", "latency_p50_ms", "latency_p95_ms", "requests")
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    JURISDICTIONS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[PairSharing]
    jurisdictions: _containers.RepeatedCompositeFieldContainer[JurisdictionSharing]
    latency_p50_ms: float
    latency_p95_ms: float
    requests: int
    def __init__(self, pairs: _Optional[_Iterable[_Union[PairSharing, _Mapping]]] = ..., jurisdictions: _Optional[_Iterable[_Union[JurisdictionSharing, _Mapping]]] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., requests: _Optional[int] = ...) -> None: ...
