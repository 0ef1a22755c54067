-- Data quality: quarantine share per entity over runs, expectation results over time,
-- and the reconciliation of the latest load.

-- name: quarantine_history
-- Share of each entity's raw rows quarantined, per build (recorded with each run's checks).
select
    recorded_at,
    run_id,
    entity,
    quarantined_row_count / nullif(raw_row_count, 0) as quarantined_share
from audit.load_reconciliation_history
order by recorded_at, entity;

-- name: expectation_history
-- Per run: expectations evaluated and failed, by severity.
select
    run_id,
    min(validated_at) as validated_at,
    count(*) as expectation_count,
    count(*) filter (where not success and severity = 'error') as failed_error_count,
    count(*) filter (where not success and severity <> 'error') as failed_warning_count
from audit.dq_results
group by run_id
order by validated_at;

-- name: latest_failures
-- Expectations that failed in the latest run.
select suite, coalesce(column_name, '') as column_name, rule, severity, observed_value,
    unexpected_count
from audit.dq_results
where run_id = (select arg_max(run_id, validated_at) from audit.dq_results)
    and not success
order by severity, suite, rule
limit $row_limit;

-- name: reconciliation
-- The latest load per entity: raw = loaded + quarantined + exact duplicates.
select
    entity,
    raw_row_count,
    loaded_row_count,
    quarantined_row_count,
    exact_duplicate_count,
    superseded_version_count,
    quarantined_row_count / nullif(raw_row_count, 0) as quarantined_share
from audit.load_reconciliation
order by raw_row_count desc;
