import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PolicyFile(_message.Message):
    __slots__ = ("path", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: str
    def __init__(self, path: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class PolicyVersion(_message.Message):
    __slots__ = ("hash", "state", "proposed_by", "approved_by", "proposed_at", "activated_at", "description")
    HASH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROPOSED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    PROPOSED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVATED_AT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    hash: str
    state: str
    proposed_by: str
    approved_by: str
    proposed_at: _timestamp_pb2.Timestamp
    activated_at: _timestamp_pb2.Timestamp
    description: str
    def __init__(self, hash: _Optional[str] = ..., state: _Optional[str] = ..., proposed_by: _Optional[str] = ..., approved_by: _Optional[str] = ..., proposed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., activated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[PolicyVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[PolicyVersion, _Mapping]]] = ...) -> None: ...

class ProposeChangeRequest(_message.Message):
    __slots__ = ("files", "removed_paths", "description", "replay_last")
    FILES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_PATHS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REPLAY_LAST_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[PolicyFile]
    removed_paths: _containers.RepeatedScalarFieldContainer[str]
    description: str
    replay_last: int
    def __init__(self, files: _Optional[_Iterable[_Union[PolicyFile, _Mapping]]] = ..., removed_paths: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., replay_last: _Optional[int] = ...) -> None: ...

class PolicyError(_message.Message):
    __slots__ = ("path", "line", "column", "message")
    PATH_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    path: str
    line: int
    column: int
    message: str
    def __init__(self, path: _Optional[str] = ..., line: _Optional[int] = ..., column: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class PolicyTestResult(_message.Message):
    __slots__ = ("name", "passed", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    passed: bool
    detail: str
    def __init__(self, name: _Optional[str] = ..., passed: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class DecisionChange(_message.Message):
    __slots__ = ("request_id", "role", "department", "dataset", "change", "detail")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    role: str
    department: str
    dataset: str
    change: str
    detail: str
    def __init__(self, request_id: _Optional[str] = ..., role: _Optional[str] = ..., department: _Optional[str] = ..., dataset: _Optional[str] = ..., change: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ImpactReport(_message.Message):
    __slots__ = ("replayed", "changes")
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    replayed: int
    changes: _containers.RepeatedCompositeFieldContainer[DecisionChange]
    def __init__(self, replayed: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[DecisionChange, _Mapping]]] = ...) -> None: ...

class ProposeChangeResponse(_message.Message):
    __slots__ = ("version", "errors", "tests", "impact")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    IMPACT_FIELD_NUMBER: _ClassVar[int]
    version: PolicyVersion
    errors: _containers.RepeatedCompositeFieldContainer[PolicyError]
    tests: _containers.RepeatedCompositeFieldContainer[PolicyTestResult]
    impact: ImpactReport
    def __init__(self, version: _Optional[_Union[PolicyVersion, _Mapping]] = ..., errors: _Optional[_Iterable[_Union[PolicyError, _Mapping]]] = ..., tests: _Optional[_Iterable[_Union[PolicyTestResult, _Mapping]]] = ..., impact: _Optional[_Union[ImpactReport, _Mapping]] = ...) -> None: ...

class ApproveChangeRequest(_message.Message):
    __slots__ = ("hash",)
    HASH_FIELD_NUMBER: _ClassVar[int]
    hash: str
    def __init__(self, hash: _Optional[str] = ...) -> None: ...

class ApproveChangeResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: PolicyVersion
    def __init__(self, version: _Optional[_Union[PolicyVersion, _Mapping]] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("hash",)
    HASH_FIELD_NUMBER: _ClassVar[int]
    hash: str
    def __init__(self, hash: _Optional[str] = ...) -> None: ...

class RollbackResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: PolicyVersion
    def __init__(self, version: _Optional[_Union[PolicyVersion, _Mapping]] = ...) -> None: ...
