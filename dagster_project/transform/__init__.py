"""dbt wiring: the dbt project as Dagster assets."""
