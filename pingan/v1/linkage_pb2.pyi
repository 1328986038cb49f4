import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from pingan.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LinkageScheme(_message.Message):
    __slots__ = ("version", "bloom_bits", "bloom_hashes", "qgram", "key_id", "field_hashes")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BLOOM_BITS_FIELD_NUMBER: _ClassVar[int]
    BLOOM_HASHES_FIELD_NUMBER: _ClassVar[int]
    QGRAM_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_HASHES_FIELD_NUMBER: _ClassVar[int]
    version: str
    bloom_bits: int
    bloom_hashes: int
    qgram: int
    key_id: str
    field_hashes: _containers.RepeatedCompositeFieldContainer[BloomFieldParams]
    def __init__(self, version: _Optional[str] = ..., bloom_bits: _Optional[int] = ..., bloom_hashes: _Optional[int] = ..., qgram: _Optional[int] = ..., key_id: _Optional[str] = ..., field_hashes: _Optional[_Iterable[_Union[BloomFieldParams, _Mapping]]] = ...) -> None: ...

class BloomFieldParams(_message.Message):
    __slots__ = ("field", "hashes")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    field: str
    hashes: int
    def __init__(self, field: _Optional[str] = ..., hashes: _Optional[int] = ...) -> None: ...

class ExactToken(_message.Message):
    __slots__ = ("kind", "token")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    kind: str
    token: bytes
    def __init__(self, kind: _Optional[str] = ..., token: _Optional[bytes] = ...) -> None: ...

class BloomEncoding(_message.Message):
    __slots__ = ("field", "bits")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    field: str
    bits: bytes
    def __init__(self, field: _Optional[str] = ..., bits: _Optional[bytes] = ...) -> None: ...

class LinkageEncoding(_message.Message):
    __slots__ = ("scheme", "exact", "bloom", "sex", "birth_year", "residence_mismatch")
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    BLOOM_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    BIRTH_YEAR_FIELD_NUMBER: _ClassVar[int]
    RESIDENCE_MISMATCH_FIELD_NUMBER: _ClassVar[int]
    scheme: LinkageScheme
    exact: _containers.RepeatedCompositeFieldContainer[ExactToken]
    bloom: _containers.RepeatedCompositeFieldContainer[BloomEncoding]
    sex: str
    birth_year: int
    residence_mismatch: bool
    def __init__(self, scheme: _Optional[_Union[LinkageScheme, _Mapping]] = ..., exact: _Optional[_Iterable[_Union[ExactToken, _Mapping]]] = ..., bloom: _Optional[_Iterable[_Union[BloomEncoding, _Mapping]]] = ..., sex: _Optional[str] = ..., birth_year: _Optional[int] = ..., residence_mismatch: _Optional[bool] = ...) -> None: ...

class LinkageRecord(_message.Message):
    __slots__ = ("dataset", "local_record_id", "encoding", "jurisdiction", "groups", "updated_at", "deleted")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    LOCAL_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    local_record_id: str
    encoding: LinkageEncoding
    jurisdiction: str
    groups: _containers.RepeatedScalarFieldContainer[_common_pb2.SensitiveGroup]
    updated_at: _timestamp_pb2.Timestamp
    deleted: bool
    def __init__(self, dataset: _Optional[str] = ..., local_record_id: _Optional[str] = ..., encoding: _Optional[_Union[LinkageEncoding, _Mapping]] = ..., jurisdiction: _Optional[str] = ..., groups: _Optional[_Iterable[_Union[_common_pb2.SensitiveGroup, str]]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted: _Optional[bool] = ...) -> None: ...

class IdentityQuery(_message.Message):
    __slots__ = ("id_number", "name", "birth_date", "phone")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    birth_date: str
    phone: str
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., birth_date: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...
