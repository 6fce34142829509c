"""The practice's program policy: knobs from clinic_rules (``facts``), stored in core.ProgramPolicy."""
