"""Server-side apply's field ownership: a port of structured-merge-diff and kube-apiserver's
field manager (`metadata.managedFields`, conflicts between managers, forced takeovers).

`fieldsets` (sets of field paths, FieldsV1), `schema` (types from OpenAPI), `typed` (walks over
typed values), `updater` (who owns what after an update or apply), `managing` (the managedFields
layers kube-apiserver adds), `kinds` (the field manager of a served kind).
"""

from simulator.api.fields.fieldsets import FieldsError
from simulator.api.fields.kinds import field_manager
from simulator.api.fields.managing import ApplyConflict, FieldManager

__all__ = ["ApplyConflict", "FieldManager", "FieldsError", "field_manager"]
