"""CLI: python -m sample_data --scale 0.01 --seed 7 --out data/drops/sample"""

from __future__ import annotations

import argparse
from pathlib import Path

from .generate import generate
from .world import Config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sample_data",
        description="Write a sample export drop that follows the raw export contract "
                    "(docs/raw_exports.md).")
    parser.add_argument("--scale", type=float, default=0.01,
                        help="1.0 = 100k customers, ~1M orders, ~10M events (default 0.01)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/drops/sample"))
    parser.add_argument("--dirty-share", type=float, default=0.01,
                        help="share of rows per entity made deliberately dirty (default 0.01)")
    shape = parser.add_argument_group("shapes of real shops' drops (see shapes.py)")
    shape.add_argument("--days", type=int, default=Config.days,
                       help="days of history (default 730)")
    shape.add_argument("--products", type=int, help="catalogue size (default 5,000 x scale)")
    shape.add_argument("--required-only", action="store_true",
                       help="write only customers, products, orders and order_items")
    shape.add_argument("--base-currency", default=Config.base_currency,
                       help="every money row in this currency, no fx_rates file")
    shape.add_argument("--timezone", default=Config.timezone,
                       help="timestamps as naive wall time in this IANA zone")
    shape.add_argument("--guest-share", type=float, default=0.0,
                       help="share of orders by guests (customer_id in no customers row)")
    args = parser.parse_args(argv)
    generate(Config(scale=args.scale, seed=args.seed, dirty_share=args.dirty_share,
                    days=args.days, products=args.products, required_only=args.required_only,
                    base_currency=args.base_currency.upper(), timezone=args.timezone,
                    guest_share=args.guest_share), args.out)


if __name__ == "__main__":
    main()
