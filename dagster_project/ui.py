"""`make ui`: the Dagster UI of one warehouse (SHOP_WAREHOUSE_PATH), on its own instance.

Each warehouse keeps its run history in `<warehouse>.state/dagster`, so the UI opened for
one warehouse never shows, or marks failed, the assets of another.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .settings import Settings, SettingsError
from .state import instance_home


def main() -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"error: {exc}")
    os.environ["DAGSTER_HOME"] = str(instance_home(settings.warehouse_path))
    os.environ["SHOP_WAREHOUSE_PATH"] = settings.warehouse_path
    print(f"Dagster UI for {settings.warehouse_path} (runs in {os.environ['DAGSTER_HOME']})")
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.execv(dagster, [dagster, "dev", "-w", "workspace.yaml", *sys.argv[1:]])


if __name__ == "__main__":
    main()
