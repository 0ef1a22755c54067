"""One more day for a generated drop, with the awkward rows an append-only day can bring:
a re-delivered version of an old order, a changed old order line, an exact duplicate of an
old event, an old event re-delivered for another visitor, every event of an anonymous
visitor re-delivered for another one, a late event joining two old sessions of a customer,
and a malformed event line. The incremental build must resolve them exactly as a full
build does (DECISIONS 31, 36)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

SUFFIX = "-next-day"


def _read_csvs(paths: list[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                      for p in paths], ignore_index=True)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")


def _stamp(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def add_dirty_day(drop: Path) -> dict:
    """Write orders-9999.csv, order_items-9999.csv and events-9999.jsonl (new files only:
    the drop's files may be hard links to another drop). Returns what was added."""
    orders = _read_csvs(sorted(drop.glob("orders*.csv")))
    ordered = _utc(orders["ordered_at"])
    newest = ordered.max()
    day = orders[ordered.dt.date == newest.date()].copy()
    day["ordered_at"] = _stamp(ordered[day.index] + pd.Timedelta(days=1))
    day["updated_at"] = ""
    copied = set(day["order_id"])
    day["order_id"] = day["order_id"] + SUFFIX
    # A re-delivered version of an old counted order, newer than any version it has: now
    # cancelled, so revenue, counts and sequences of its customer change.
    valid = orders[_utc(orders["ordered_at"]).notna() & orders["status"].isin(["paid", "shipped"])
                   & (orders["order_id"] != "") & ~orders["order_id"].duplicated(keep=False)]
    redelivered = valid.iloc[[0]].copy()
    redelivered["status"] = "cancelled"
    redelivered["updated_at"] = _stamp(pd.Series([newest + pd.Timedelta(hours=1)],
                                                 index=redelivered.index))
    pd.concat([day, redelivered]).to_csv(drop / "orders-9999.csv", index=False)

    items = _read_csvs(sorted(drop.glob("order_items*.csv")))
    new_items = items[items["order_id"].isin(copied)].copy()
    new_items["order_id"] = new_items["order_id"] + SUFFIX
    # A later file's copy of an old line with another quantity: the later file wins.
    line = items[items["quantity"].str.fullmatch(r"[1-9]")
                 & ~items.duplicated(["order_id", "line_number"], keep=False)].iloc[[0]].copy()
    line["quantity"] = str(int(line["quantity"].iloc[0]) + 1)
    pd.concat([new_items, line]).to_csv(drop / "order_items-9999.csv", index=False)

    lines = [line for path in sorted(drop.glob("events*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    events = []
    for text in lines:
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("event_id"), str):
            events.append(record)
    frame = pd.DataFrame(events)
    when = _utc(frame["occurred_at"])
    last_day = frame[when.dt.date == when.max().date()].copy()
    last_day["occurred_at"] = _stamp(when[last_day.index] + pd.Timedelta(days=1))
    last_day["event_id"] = last_day["event_id"] + SUFFIX
    last_day["session_id"] = last_day["session_id"].map(
        lambda value: value + SUFFIX if isinstance(value, str) else value)
    last_day["order_id"] = last_day["order_id"].map(
        lambda value: value + SUFFIX if value in copied else value)
    out = [json.dumps({k: (None if pd.isna(v) else v) for k, v in record.items()})
           for record in last_day.to_dict("records")]
    customers = frame[frame["customer_id"].notna() & when.notna()]
    moved = dict(customers.iloc[0].dropna())
    other = customers[customers["customer_id"] != moved["customer_id"]].iloc[-1]
    moved["customer_id"] = other["customer_id"]  # the old event, now of another visitor
    single = ~frame["event_id"].duplicated(keep=False) & when.notna()
    # Every event of the anonymous visitor with the fewest, re-delivered for another one:
    # the visitor has no event left (DECISIONS 36).
    anonymous = frame[frame["anonymous_id"].notna()]
    by_visitor = anonymous.groupby("anonymous_id").agg(
        events=("event_id", "size"), known=("customer_id", "count"))
    candidates = by_visitor[(by_visitor["known"] == 0)
                            & anonymous.groupby("anonymous_id").apply(
                                lambda rows: bool(single[rows.index].all()))]
    left = candidates.sort_values("events", kind="stable").index[0]
    taker = candidates.index[candidates.index != left][-1]
    emptied = [dict(record) | {"anonymous_id": taker} for record in
               anonymous[anonymous["anonymous_id"] == left].to_dict("records")]
    # A late event of a customer in a 31-60 minute gap between two of their old events:
    # it joins two sessions, so the customer's later sessions are numbered one lower.
    known = frame[single & frame["customer_id"].notna()].assign(at=when)
    known = known.sort_values(["customer_id", "at", "event_id"])
    gap = known.groupby("customer_id")["at"].diff()
    after = known[(gap > pd.Timedelta(minutes=30)) & (gap <= pd.Timedelta(minutes=60))].iloc[0]
    bridge = dict(after.drop("at").dropna())
    bridge["event_id"] = "bridge" + SUFFIX
    bridge["occurred_at"] = _stamp(pd.Series([after["at"] - gap[after.name] / 2]))[0]
    out += [
        lines[_first_line_of(lines, events[0]["event_id"])],  # an exact duplicate
        json.dumps(moved),
        *(json.dumps({k: (None if pd.isna(v) else v) for k, v in record.items()})
          for record in emptied),
        json.dumps(bridge),
        '{"event_id": "broken',  # a malformed record: no key, quarantined
    ]
    (drop / "events-9999.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    return {"orders": len(day) + 1, "order_items": len(new_items) + 1,
            "events": len(out), "new_events": len(last_day) + 1,
            "redelivered_order": redelivered["order_id"].iloc[0],
            "moved_event": moved["event_id"], "emptied_visitor": left,
            "bridged": (bridge["customer_id"], bridge["event_id"], after["event_id"])}


def _first_line_of(lines: list[str], event_id: str) -> int:
    for number, text in enumerate(lines):
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event_id") == event_id:
            return number
    raise ValueError(f"event {event_id} not found")
