-- The contract's reconciliation: for every entity, raw rows = loaded + quarantined +
-- exact duplicates, and the quarantine table holds exactly the quarantined rows.
select *
from {{ ref('load_reconciliation') }}
where raw_row_count <> loaded_row_count + quarantined_row_count + exact_duplicate_count
   or rejected_table_row_count <> quarantined_row_count
   or current_row_count <> loaded_row_count - superseded_version_count
