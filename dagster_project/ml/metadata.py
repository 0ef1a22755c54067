"""Metadata a person reads in the Dagster UI: Markdown tables and embedded plots."""

import base64

import pandas as pd
from dagster import MetadataValue


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> MetadataValue:
    """A Markdown table of the frame, numbers rounded, empty values blank."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.{digits}f}"
        return "" if value is None or value is pd.NaT else str(value).replace("|", "/")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return MetadataValue.md("\n".join(lines))


def png(image: bytes, title: str) -> MetadataValue:
    """A PNG embedded in Markdown as a data URI (the Dagster UI renders it)."""
    encoded = base64.b64encode(image).decode("ascii")
    return MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")
