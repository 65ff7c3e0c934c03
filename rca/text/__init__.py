"""Text utilities shared by ingest, labels and the report: redaction and normalisation."""
