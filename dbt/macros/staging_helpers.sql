{#- Shared staging logic: the first broken rule of a row, exact duplicates, latest version.
    The contract's columns and checks come from dbt/macros/contract.sql (generated). -#}

{% macro rejection_reason(required=[], parsed={}, rules=[], amounts=[], planned=[]) -%}
    {#- required: columns that must be present; parsed: {column: kind} for typed columns
        whose raw text sits in <column>_text; amounts: money columns held to
        plausible_max_amount; planned: timestamp columns that may lie in the future (campaign
        dates, launches, rate dates); rules: [(condition, reason)] checked last.
        Reason codes: missing_required:<col>, bad_timestamp:<col>, bad_number:<col>,
        bad_date:<col>, implausible_timestamp:<col> (every parsed timestamp outside the
        plausible window), implausible_amount:<col>, then the rule's own code. -#}
    case
        when _parse_error is not null then 'malformed_record'
        {%- for column in required %}
        when {{ column ~ '_text' if column in parsed else column }} is null then 'missing_required:{{ column }}'
        {%- endfor %}
        {%- for column, kind in parsed.items() %}
        when {{ column }}_text is not null and {{ column }} is null then 'bad_{{ kind }}:{{ column }}'
        {%- endfor %}
        {%- for column, kind in parsed.items() if kind == 'timestamp' %}
        when {{ implausible_time(column, planned=column in planned) }} then 'implausible_timestamp:{{ column }}'
        {%- endfor %}
        {%- for column in amounts %}
        when {{ implausible_amount(column) }} then 'implausible_amount:{{ column }}'
        {%- endfor %}
        {%- for condition, reason in rules %}
        when {{ condition }} then '{{ reason }}'
        {%- endfor %}
    end
{%- endmacro %}

{% macro contract_rejection_reason(entity, rules=[]) -%}
    {#- rejection_reason() with the contract's checks of `entity` (required, parsed, accepted
        values, amounts, planned timestamps), then the model's own `rules` in order. -#}
    {{ rejection_reason(
        required=contract_required(entity),
        parsed=contract_parsed(entity),
        rules=contract_accepted_rules(entity) + rules,
        amounts=contract_amounts(entity),
        planned=contract_planned(entity)
    ) }}
{%- endmacro %}

{% macro inline_cte() -%}
    {#- `with name as {{ inline_cte() }} (...)`: the CTE is inlined into each reader, never
        copied (a 10M-row CTE read twice would otherwise be materialised). -#}
    {{ return(adapter.dispatch('inline_cte')()) }}
{%- endmacro %}

{% macro duckdb__inline_cte() -%}not materialized{%- endmacro %}

{% macro default__inline_cte() -%}{%- endmacro %}

{% macro materialized_cte() -%}
    {#- `with name as {{ materialized_cte() }} (...)`: a small CTE computed once for all its
        readers (DuckDB would otherwise inline it into each). -#}
    {{ return(adapter.dispatch('materialized_cte')()) }}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}materialized{%- endmacro %}

{% macro default__materialized_cte() -%}{%- endmacro %}

{% macro exact_duplicate_rank(entity) -%}
    {#- 1 for the first copy of a row (by file, line), 2+ for exact duplicates of it. A
        malformed record (ragged CSV, invalid JSON) is never a duplicate: its contract
        columns are empty because it could not be split, not because it repeats a row. -#}
    case when _parse_error is not null then 1 else row_number() over (
        partition by _parse_error is null, {% for column in contract_columns(entity) %}{{ column }}{{ ", " if not loop.last }}{% endfor %}
        order by _source_file, _source_line
    ) end
{%- endmacro %}

{% macro latest_version_rank(key_columns, updated_column=none) -%}
    {#- 1 for the winning version among valid, distinct rows: greatest updated_at, then the
        later file, then the later line. Rejected rows and exact duplicates rank apart. -#}
    row_number() over (
        partition by rejection_reason is null and exact_duplicate_rank = 1, {{ key_columns | join(", ") }}
        order by {% if updated_column %}{{ updated_column }} desc nulls last, {% endif %}_source_file desc, _source_line desc
    )
{%- endmacro %}

{% macro untrusted_latest_version(key_columns, updated_column=none) -%}
    {#- True on every row of a key whose newest row by file, then line, cannot be trusted:
        it is quarantined, or it has no updated_at while other versions have one. The
        newest valid version still wins (an order is not lost), but the key is flagged and
        counted in audit.load_reconciliation; customers' consent then falls back to the most
        restrictive value of all versions (DECISIONS.md 22). -#}
    {%- set newest = "partition by " ~ (key_columns | join(", ")) ~ " order by _source_file desc, _source_line desc rows between unbounded preceding and unbounded following" -%}
    coalesce(
        first_value(rejection_reason is not null) over ({{ newest }})
        {%- if updated_column %}
        or (first_value({{ updated_column }}_text is null) over ({{ newest }})
            and count({{ updated_column }}_text) over (partition by {{ key_columns | join(", ") }}) > 0)
        {%- endif %},
        false)
{%- endmacro %}

{% macro staged_current(entity_base) -%}
    {#- Valid, de-duplicated rows of a base model, latest version only. -#}
    select * from {{ ref(entity_base) }}
    where rejection_reason is null and exact_duplicate_rank = 1 and version_rank = 1
{%- endmacro %}

{% macro staged_rejected(entity, entity_base) -%}
    {#- The quarantine: the raw row exactly as loaded, where it came from, and why. -#}
    with raw_rows as (
        select * from {{ source('shop', entity) }}
    ),

    verdicts as (
        select _source_file, _source_line, rejection_reason
        from {{ ref(entity_base) }}
        where rejection_reason is not null and exact_duplicate_rank = 1
    ),

    final as (
        select
            verdicts.rejection_reason,
            raw_rows._source_file,
            raw_rows._source_line,
            {% for column in contract_columns(entity) %}raw_rows.{{ column }} as raw_{{ column }},
            {% endfor %}raw_rows._parse_error,
            raw_rows._load_id
        from verdicts
        inner join raw_rows
            on verdicts._source_file = raw_rows._source_file
            and verdicts._source_line = raw_rows._source_line
    )

    select * from final
{%- endmacro %}

{% macro ranked_source(entity, key_expressions) -%}
    {#- The entity's raw rows with exact_duplicate_rank (as exact_duplicate_rank() defines it)
        and `_key_repeats`, for large entities. key_expressions: the typed key, as the base
        model's typed CTE computes it. A row whose key no other row has is no exact copy
        (copies share the key): its rank is 1 without a window, and the windows run only on
        the few rows whose key repeats (a hash of the key finds them; a collision only
        sends a row to the exact path). `_key_repeats` is a constant in each branch of the
        union, so a reader's `where [not] _key_repeats` (ranked_versions) prunes the other
        branch at planning time: the raw table is scanned once per branch, and nothing is
        copied as long as the base model inlines its CTEs (inline_cte()). In an
        incremental build only the rows of keys the new files hold are ranked (all their
        rows, old and new), and they replace those keys' rows (DECISIONS 31). -#}
    select * from (
        with raw_rows as {{ inline_cte() }} (
            select * from {{ source('shop', entity) }}
            {%- if is_incremental() %}
            {{ changed_keys_filter(entity, key_expressions) }}
            {%- endif %}
        ),

        repeated_keys as {{ materialized_cte() }} (
            select hash({{ key_expressions | join(', ') }}) as _key_hash
            from raw_rows
            group by _key_hash
            having count(*) > 1
        ),

        keyed as {{ inline_cte() }} (
            select
                *,
                hash({{ key_expressions | join(', ') }})
                    in (select repeated_keys._key_hash from repeated_keys) as _repeats
            from raw_rows
        )

        select * exclude (_repeats), false as _key_repeats,
            cast(1 as bigint) as exact_duplicate_rank
        from keyed
        where not _repeats
        union all by name
        select * exclude (_repeats), true as _key_repeats,
            {{ exact_duplicate_rank(entity) }} as exact_duplicate_rank
        from keyed
        where _repeats
    )
{%- endmacro %}

{% macro ranked_versions(relation, key_columns, updated_column=none) -%}
    {#- The rows of `relation` (a CTE of a base model holding `_key_repeats` from
        ranked_source) with version_rank and has_untrusted_latest_version, as
        latest_version_rank() and untrusted_latest_version() define them: a key's only row
        is its latest version, untrusted exactly when it is quarantined; the windows run only
        on keys with several rows. -#}
    select
        * exclude (_key_repeats),
        cast(1 as bigint) as version_rank,
        rejection_reason is not null as has_untrusted_latest_version
    from {{ relation }}
    where not _key_repeats
    union all by name
    select
        * exclude (_key_repeats),
        {{ latest_version_rank(key_columns, updated_column) }} as version_rank,
        {{ untrusted_latest_version(key_columns, updated_column) }} as has_untrusted_latest_version
    from {{ relation }}
    where _key_repeats
{%- endmacro %}
