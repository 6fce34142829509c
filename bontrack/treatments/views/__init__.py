"""Staff screens of treatments, one module per screen (see docs/treatments.md)."""
