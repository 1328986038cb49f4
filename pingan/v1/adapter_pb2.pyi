import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from pingan.v1 import common_pb2 as _common_pb2
from pingan.v1 import linkage_pb2 as _linkage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FieldSpec(_message.Message):
    __slots__ = ("name", "type", "classification", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: _common_pb2.ValueType
    classification: _common_pb2.Classification
    description: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_common_pb2.ValueType, str]] = ..., classification: _Optional[_Union[_common_pb2.Classification, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class DatasetSpec(_message.Message):
    __slots__ = ("name", "description", "fields", "groups")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    fields: _containers.RepeatedCompositeFieldContainer[FieldSpec]
    groups: _containers.RepeatedScalarFieldContainer[_common_pb2.SensitiveGroup]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[FieldSpec, _Mapping]]] = ..., groups: _Optional[_Iterable[_Union[_common_pb2.SensitiveGroup, str]]] = ...) -> None: ...

class DescribeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeResponse(_message.Message):
    __slots__ = ("department", "display_name", "datasets", "linkage_scheme")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    LINKAGE_SCHEME_FIELD_NUMBER: _ClassVar[int]
    department: str
    display_name: str
    datasets: _containers.RepeatedCompositeFieldContainer[DatasetSpec]
    linkage_scheme: _linkage_pb2.LinkageScheme
    def __init__(self, department: _Optional[str] = ..., display_name: _Optional[str] = ..., datasets: _Optional[_Iterable[_Union[DatasetSpec, _Mapping]]] = ..., linkage_scheme: _Optional[_Union[_linkage_pb2.LinkageScheme, _Mapping]] = ...) -> None: ...

class TokenizeRequest(_message.Message):
    __slots__ = ("request_id", "query")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    query: _linkage_pb2.IdentityQuery
    def __init__(self, request_id: _Optional[str] = ..., query: _Optional[_Union[_linkage_pb2.IdentityQuery, _Mapping]] = ...) -> None: ...

class TokenizeResponse(_message.Message):
    __slots__ = ("encoding",)
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    encoding: _linkage_pb2.LinkageEncoding
    def __init__(self, encoding: _Optional[_Union[_linkage_pb2.LinkageEncoding, _Mapping]] = ...) -> None: ...

class StreamLinkageRequest(_message.Message):
    __slots__ = ("after_watermark", "batch_size")
    AFTER_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_watermark: str
    batch_size: int
    def __init__(self, after_watermark: _Optional[str] = ..., batch_size: _Optional[int] = ...) -> None: ...

class StreamLinkageResponse(_message.Message):
    __slots__ = ("records", "watermark")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    WATERMARK_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_linkage_pb2.LinkageRecord]
    watermark: str
    def __init__(self, records: _Optional[_Iterable[_Union[_linkage_pb2.LinkageRecord, _Mapping]]] = ..., watermark: _Optional[str] = ...) -> None: ...

class DatasetFetch(_message.Message):
    __slots__ = ("dataset", "local_record_ids", "fields")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    LOCAL_RECORD_IDS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    local_record_ids: _containers.RepeatedScalarFieldContainer[str]
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dataset: _Optional[str] = ..., local_record_ids: _Optional[_Iterable[str]] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class AuditWitness(_message.Message):
    __slots__ = ("checkpoint", "entry_index", "consistency_proof", "proof_from_size")
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_INDEX_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_PROOF_FIELD_NUMBER: _ClassVar[int]
    PROOF_FROM_SIZE_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    entry_index: int
    consistency_proof: _containers.RepeatedScalarFieldContainer[bytes]
    proof_from_size: int
    def __init__(self, checkpoint: _Optional[str] = ..., entry_index: _Optional[int] = ..., consistency_proof: _Optional[_Iterable[bytes]] = ..., proof_from_size: _Optional[int] = ...) -> None: ...

class FetchRecordsRequest(_message.Message):
    __slots__ = ("request_id", "purpose", "fetches", "witness")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    FETCHES_FIELD_NUMBER: _ClassVar[int]
    WITNESS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    purpose: str
    fetches: _containers.RepeatedCompositeFieldContainer[DatasetFetch]
    witness: AuditWitness
    def __init__(self, request_id: _Optional[str] = ..., purpose: _Optional[str] = ..., fetches: _Optional[_Iterable[_Union[DatasetFetch, _Mapping]]] = ..., witness: _Optional[_Union[AuditWitness, _Mapping]] = ...) -> None: ...

class FetchRecordsResponse(_message.Message):
    __slots__ = ("records", "missing", "read_at")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    READ_AT_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    missing: _containers.RepeatedScalarFieldContainer[str]
    read_at: _timestamp_pb2.Timestamp
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., missing: _Optional[_Iterable[str]] = ..., read_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("request_id", "since", "limit")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    since: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, request_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class DepartmentAlert(_message.Message):
    __slots__ = ("alert_id", "kind", "dataset", "local_record_id", "raised_at", "severity", "detail")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    LOCAL_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    kind: str
    dataset: str
    local_record_id: str
    raised_at: _timestamp_pb2.Timestamp
    severity: str
    detail: str
    def __init__(self, alert_id: _Optional[str] = ..., kind: _Optional[str] = ..., dataset: _Optional[str] = ..., local_record_id: _Optional[str] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., severity: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[DepartmentAlert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[DepartmentAlert, _Mapping]]] = ...) -> None: ...
