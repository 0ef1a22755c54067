"""The serving copy of the warehouse for BI tools (publish.py) and its asset (assets.py)."""
