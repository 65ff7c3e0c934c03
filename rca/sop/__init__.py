"""SOP changes: what a procedure change did to its theme, measured against the others (pure)."""
