"""The second log of bench/real_shop.py (lifetimes' simulated example_transactions.csv)
read as the drop writer expects, checked against the file read line by line."""

from __future__ import annotations

import csv

from bench.real_shop import EXAMPLE, read_example


def test_the_example_log_keeps_every_purchase_day():
    with EXAMPLE.open() as handle:
        lines = [(row["id"], row["date"][:10]) for row in csv.DictReader(handle)]
    log = read_example()
    assert len(log) == len(lines) == 15273
    assert log["customer_id"].nunique() == len({i for i, _ in lines}) == 5000
    assert set(zip(log["customer_id"], log["order_date"].dt.strftime("%Y-%m-%d"),
                   strict=True)) == {(f"C{int(i):05d}", d) for i, d in lines}
    assert (log["cds"] == 1).all() and (log["dollars"] == 1.0).all()
    assert log["order_date"].min().year == log["order_date"].max().year == 2014
    assert read_example(customers=10)["customer_id"].nunique() == 10
