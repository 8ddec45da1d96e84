"""Typed records: the pydantic types behind protocols, results and rankings, and their one-line errors.

The records themselves stay where their producers are (ddr/protocols, ddr/eval/result.py,
registry/ranking_record.py); this package holds what they share: field types whose checks and JSON Schema
are stated once (fields.py) and validation that turns pydantic's errors into one DDRError line naming the
field (validation.py). `python -m pipelines.record_schemas` exports the JSON Schemas to docs/schemas/.
"""
