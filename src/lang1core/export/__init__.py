"""EHR exports: the contract (contract.py), reading, validation and the MIMIC-III adapter."""

from lang1core.export.contract import CONTRACT, TABLE_ORDER, TABLES
from lang1core.export.reading import ExportSchemaError, open_table, read_table
from lang1core.export.validate import format_summary, read_validated, validate_export

__all__ = ["CONTRACT", "TABLES", "TABLE_ORDER", "ExportSchemaError", "open_table", "read_table",
           "validate_export", "read_validated", "format_summary"]
