import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Category(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_UNSPECIFIED: _ClassVar[Category]
    CATEGORY_IDENTITY: _ClassVar[Category]
    CATEGORY_CONTACT: _ClassVar[Category]
    CATEGORY_ADDRESS: _ClassVar[Category]
    CATEGORY_HOUSEHOLD: _ClassVar[Category]
    CATEGORY_CASE: _ClassVar[Category]
    CATEGORY_HEALTH: _ClassVar[Category]
    CATEGORY_CORRECTIONS: _ClassVar[Category]
    CATEGORY_ASSISTANCE: _ClassVar[Category]
    CATEGORY_EMPLOYMENT: _ClassVar[Category]
    CATEGORY_EDUCATION: _ClassVar[Category]
    CATEGORY_RISK: _ClassVar[Category]
    CATEGORY_ADMINISTRATIVE: _ClassVar[Category]

class Grade(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRADE_UNSPECIFIED: _ClassVar[Grade]
    GRADE_L1_PUBLIC: _ClassVar[Grade]
    GRADE_L2_INTERNAL: _ClassVar[Grade]
    GRADE_L3_SENSITIVE: _ClassVar[Grade]
    GRADE_L4_HIGHLY_SENSITIVE: _ClassVar[Grade]

class ValueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_TYPE_UNSPECIFIED: _ClassVar[ValueType]
    VALUE_TYPE_STRING: _ClassVar[ValueType]
    VALUE_TYPE_INTEGER: _ClassVar[ValueType]
    VALUE_TYPE_DATE: _ClassVar[ValueType]
    VALUE_TYPE_BOOLEAN: _ClassVar[ValueType]
    VALUE_TYPE_BYTES: _ClassVar[ValueType]
    VALUE_TYPE_TEXT: _ClassVar[ValueType]

class SensitiveGroup(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENSITIVE_GROUP_UNSPECIFIED: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_COMMUNITY_CORRECTIONS: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_RELEASED_PRISONER: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_SEVERE_MENTAL_DISORDER: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_DRUG_INVOLVED: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_MINOR: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_ELDERLY_ALONE: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_DOMESTIC_VIOLENCE_VICTIM: _ClassVar[SensitiveGroup]
    SENSITIVE_GROUP_WHISTLEBLOWER: _ClassVar[SensitiveGroup]

class SectionOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECTION_OUTCOME_UNSPECIFIED: _ClassVar[SectionOutcome]
    SECTION_OUTCOME_CLEAR: _ClassVar[SectionOutcome]
    SECTION_OUTCOME_MASKED: _ClassVar[SectionOutcome]
    SECTION_OUTCOME_DENIED: _ClassVar[SectionOutcome]
    SECTION_OUTCOME_UNAVAILABLE: _ClassVar[SectionOutcome]
CATEGORY_UNSPECIFIED: Category
CATEGORY_IDENTITY: Category
CATEGORY_CONTACT: Category
CATEGORY_ADDRESS: Category
CATEGORY_HOUSEHOLD: Category
CATEGORY_CASE: Category
CATEGORY_HEALTH: Category
CATEGORY_CORRECTIONS: Category
CATEGORY_ASSISTANCE: Category
CATEGORY_EMPLOYMENT: Category
CATEGORY_EDUCATION: Category
CATEGORY_RISK: Category
CATEGORY_ADMINISTRATIVE: Category
GRADE_UNSPECIFIED: Grade
GRADE_L1_PUBLIC: Grade
GRADE_L2_INTERNAL: Grade
GRADE_L3_SENSITIVE: Grade
GRADE_L4_HIGHLY_SENSITIVE: Grade
VALUE_TYPE_UNSPECIFIED: ValueType
VALUE_TYPE_STRING: ValueType
VALUE_TYPE_INTEGER: ValueType
VALUE_TYPE_DATE: ValueType
VALUE_TYPE_BOOLEAN: ValueType
VALUE_TYPE_BYTES: ValueType
VALUE_TYPE_TEXT: ValueType
SENSITIVE_GROUP_UNSPECIFIED: SensitiveGroup
SENSITIVE_GROUP_COMMUNITY_CORRECTIONS: SensitiveGroup
SENSITIVE_GROUP_RELEASED_PRISONER: SensitiveGroup
SENSITIVE_GROUP_SEVERE_MENTAL_DISORDER: SensitiveGroup
SENSITIVE_GROUP_DRUG_INVOLVED: SensitiveGroup
SENSITIVE_GROUP_MINOR: SensitiveGroup
SENSITIVE_GROUP_ELDERLY_ALONE: SensitiveGroup
SENSITIVE_GROUP_DOMESTIC_VIOLENCE_VICTIM: SensitiveGroup
SENSITIVE_GROUP_WHISTLEBLOWER: SensitiveGroup
SECTION_OUTCOME_UNSPECIFIED: SectionOutcome
SECTION_OUTCOME_CLEAR: SectionOutcome
SECTION_OUTCOME_MASKED: SectionOutcome
SECTION_OUTCOME_DENIED: SectionOutcome
SECTION_OUTCOME_UNAVAILABLE: SectionOutcome

class Classification(_message.Message):
    __slots__ = ("category", "grade")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    category: Category
    grade: Grade
    def __init__(self, category: _Optional[_Union[Category, str]] = ..., grade: _Optional[_Union[Grade, str]] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class FieldValue(_message.Message):
    __slots__ = ("string_value", "integer_value", "date_value", "boolean_value", "bytes_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INTEGER_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    integer_value: int
    date_value: Date
    boolean_value: bool
    bytes_value: bytes
    def __init__(self, string_value: _Optional[str] = ..., integer_value: _Optional[int] = ..., date_value: _Optional[_Union[Date, _Mapping]] = ..., boolean_value: _Optional[bool] = ..., bytes_value: _Optional[bytes] = ...) -> None: ...

class Field(_message.Message):
    __slots__ = ("name", "value", "classification", "masking_operator", "withheld")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    MASKING_OPERATOR_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: FieldValue
    classification: Classification
    masking_operator: str
    withheld: bool
    def __init__(self, name: _Optional[str] = ..., value: _Optional[_Union[FieldValue, _Mapping]] = ..., classification: _Optional[_Union[Classification, _Mapping]] = ..., masking_operator: _Optional[str] = ..., withheld: _Optional[bool] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("department", "dataset", "local_record_id", "updated_at")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    LOCAL_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    department: str
    dataset: str
    local_record_id: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, department: _Optional[str] = ..., dataset: _Optional[str] = ..., local_record_id: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("provenance", "fields")
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    provenance: Provenance
    fields: _containers.RepeatedCompositeFieldContainer[Field]
    def __init__(self, provenance: _Optional[_Union[Provenance, _Mapping]] = ..., fields: _Optional[_Iterable[_Union[Field, _Mapping]]] = ...) -> None: ...
