{#- One row per entity of the current load: raw rows = loaded + quarantined + exact
    duplicates (the contract's reconciliation), how many loaded rows were older versions
    superseded by a newer one, and how many current rows stand in for a newer row that could
    not be trusted (quarantined, or without updated_at), and how many rows of the files
    belonged to erased customers (withheld from raw for customers, anonymised otherwise). -#}
{% for entity in contract_entities() %}
select
    '{{ entity }}' as entity,
    (select count(*) from {{ source('shop', entity) }}) as raw_row_count,
    count(case when rejection_reason is null and exact_duplicate_rank = 1 then 1 end)
        as loaded_row_count,
    count(case when rejection_reason is not null and exact_duplicate_rank = 1 then 1 end)
        as quarantined_row_count,
    count(case when exact_duplicate_rank > 1 then 1 end) as exact_duplicate_count,
    count(case when rejection_reason is null and exact_duplicate_rank = 1 and version_rank > 1
        then 1 end) as superseded_version_count,
    count(case when rejection_reason is null and exact_duplicate_rank = 1 and version_rank = 1
        and has_untrusted_latest_version then 1 end) as untrusted_latest_version_count,
    (select count(*) from {{ ref('stg_shop__' ~ entity) }}) as current_row_count,
    (select count(*) from {{ ref('stg_shop__' ~ entity ~ '_rejected') }}) as rejected_table_row_count,
    (select cast(coalesce(sum(row_count), 0) as {{ dbt.type_bigint() }})
        from {{ source('privacy', 'suppressed_rows') }}
        where entity = '{{ entity }}') as suppressed_row_count
from {{ ref('base_shop__' ~ entity) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
