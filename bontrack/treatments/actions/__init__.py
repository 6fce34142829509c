"""Treatment use cases, one module each (see docs/treatments.md)."""
