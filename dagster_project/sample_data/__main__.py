"""CLI: python -m dagster_project.sample_data --scale 0.01 --seed 7 --out data/drops/sample"""

from __future__ import annotations

import argparse
from pathlib import Path

from .generate import generate
from .world import Config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m dagster_project.sample_data",
        description="Write a sample export drop that follows shared/contract/raw_exports.md.")
    parser.add_argument("--scale", type=float, default=0.01,
                        help="1.0 = 100k customers, ~1M orders, ~10M events (default 0.01)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/drops/sample"))
    parser.add_argument("--dirty-share", type=float, default=0.01,
                        help="share of rows per entity made deliberately dirty (default 0.01)")
    args = parser.parse_args(argv)
    generate(Config(scale=args.scale, seed=args.seed, dirty_share=args.dirty_share), args.out)


if __name__ == "__main__":
    main()
