{#- One row per touch of a counted order: the customer's sessions that started in the
    attribution_lookback_days before the order (up to its time), with the credit each of
    five models gives the touch and the net revenue that credit carries. Business question:
    "which channels and campaigns earn the revenue, under each way of sharing credit?"
    Models, for an order with n touches in time order:
    - first_touch: all credit to touch 1; last_touch: all to touch n;
    - linear: 1/n each;
    - time_decay: 0.5 ^ (days before the order / attribution_half_life_days), normalised;
    - position_based: 40% first, 40% last, 20% shared by the middle (n = 2: 50/50).
    An order with no session in the lookback (or no known customer) keeps one touch: its own
    recorded channel and campaign (is_order_touch), so every model credits every counted
    order exactly once and attributed revenue sums to total net revenue.
    Weights are DECIMAL(18, 12), so every sum is exact: sums of DOUBLEs depend on the order
    the engine adds them in (two builds differed at 1e-15).
    Shares of revenue are rounded to 6 places so that each order's shares add up to its
    revenue exactly (DECISIONS 33): touch k carries round(revenue x W_k) - round(revenue x
    W_k-1), where W_k is the weight of touches 1..k (W_n = 1). Rounding each share on its own
    biased the totals: shares ending on an exact half all round up, which at 3.5M orders put
    linear attribution's channel total 0.015 above revenue.
    Incremental (DECISIONS 31, 36): an append-only build recomputes, per customer, the
    touches of the orders from the earlier of the earliest version of a changed order of
    theirs and the start of their recomputed sessions (changed_attribution_orders()). -#}
{%- set weight = "decimal(18, 12)" -%}
{%- set half_life = var('attribution_half_life_days') -%}
{#- A sum of decay factors as a share of the order's total. Divided as DOUBLEs (exact
    inputs, one IEEE division: deterministic); a DECIMAL(38, 18) division costs seconds per
    million touches. -#}
{%- set decay_share = "cast({} as double) / cast(order_decay_total as double)" -%}
{{ config(materialized='incremental', incremental_strategy='replace_ranges',
          full_refresh=shop_full_refresh(), unique_key='customer_id',
          replace_ranges={'rows': 'attribution_orders', 'column': 'ordered_at'},
          meta={'append_entities': ['orders', 'order_items', 'events']}) }}
{{ build_state_dependencies(['base_shop__orders', 'base_shop__order_items', 'base_shop__events']) }}

{%- if is_incremental() %}
with replaced as {{ materialized_cte() }} (
    {{ changed_attribution_orders() }}
),

orders as (
{%- else %}
with orders as (
{%- endif %}
    select
        counted_orders.order_id, counted_orders.customer_id, counted_orders.ordered_at,
        counted_orders.order_date, counted_orders.net_revenue_amount,
        counted_orders.is_new_customer_order, counted_orders.has_unknown_customer,
        coalesce(counted_orders.channel_id, {{ unknown_key() }}) as channel_id,
        counted_orders.campaign_id
    from {{ ref('fct_orders') }} as counted_orders
    {%- if is_incremental() %}
    inner join replaced
        on counted_orders.customer_id = replaced.customer_id
        and (replaced.replaced_from is null
             or counted_orders.ordered_at >= replaced.replaced_from)
    {%- endif %}
    where counted_orders.is_counted
),

sessions as (
    select session_key, customer_id, started_at, channel_id, campaign_id
    from {{ ref('int_sessions') }}
    where customer_id is not null
    {%- if is_incremental() %}
        {#- Only the orders' customers can match (the join is on the customer): the same
            touches, without hashing every session of the shop. #}
        and customer_id in (select changed.customer_id from orders as changed)
    {%- endif %}
),

touches as (
    {#- One left join: an order without a session in the lookback keeps one row, its own
        channel and campaign (the order touch). -#}
    select
        orders.order_id,
        sessions.session_key,
        coalesce(sessions.started_at, orders.ordered_at) as touched_at,
        case when sessions.session_key is null then orders.channel_id
             else sessions.channel_id end as channel_id,
        case when sessions.session_key is null then orders.campaign_id
             else sessions.campaign_id end as campaign_id,
        sessions.session_key is null as is_order_touch,
        orders.customer_id,
        orders.order_date,
        orders.ordered_at,
        orders.net_revenue_amount as order_net_revenue_amount,
        orders.is_new_customer_order,
        cast(power(0.5, {{ dbt.datediff('coalesce(sessions.started_at, orders.ordered_at)', 'orders.ordered_at', 'second') }}
                        / (86400.0 * {{ half_life }})) as decimal(38, 18)) as decay_factor
    from orders
    left join sessions
        on orders.customer_id = sessions.customer_id
        and not orders.has_unknown_customer
        and sessions.started_at <= orders.ordered_at
        and sessions.started_at > {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'), 'orders.ordered_at') }}
),

{#- The three windows share one partitioning, so the engine sorts the touches once (the
    decay factor is computed per touch before them; a DECIMAL sum does not depend on order). -#}
numbered as (
    select
        touches.*,
        row_number() over (
            partition by touches.order_id order by touches.touched_at, touches.session_key
        ) as touch_number,
        count(*) over (partition by touches.order_id) as touch_count,
        sum(touches.decay_factor) over (partition by touches.order_id) as order_decay_total,
        sum(touches.decay_factor) over (
            partition by touches.order_id order by touches.touched_at, touches.session_key
            rows between unbounded preceding and current row
        ) as cumulative_decay
    from touches
),

weighted as (
    select
        numbered.*,
        cast(case when touch_number = 1 then 1 else 0 end as {{ weight }}) as first_touch_weight,
        cast(case when touch_number = touch_count then 1 else 0 end as {{ weight }})
            as last_touch_weight,
        cast(1.0 / touch_count as {{ weight }}) as linear_weight,
        cast({{ decay_share.format('decay_factor') }} as {{ weight }}) as time_decay_weight,
        cast(case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when touch_number = 1 or touch_number = touch_count then 0.4
            else 0.2 / (touch_count - 2)
        end as {{ weight }}) as position_based_weight,
        {#- The weight of touches 1..k (through) and 1..k-1 (before) under each model that
            splits an order; `through` is exactly 1 on the last touch. -#}
        cast(1.0 * touch_number / touch_count as {{ weight }}) as linear_through,
        cast(1.0 * (touch_number - 1) / touch_count as {{ weight }}) as linear_before,
        cast({{ decay_share.format('cumulative_decay') }} as {{ weight }}) as time_decay_through,
        cast({{ decay_share.format('cumulative_decay - decay_factor') }} as {{ weight }})
            as time_decay_before,
        cast({{ position_based_through('touch_number', 'touch_count') }} as {{ weight }})
            as position_based_through,
        cast({{ position_based_through('touch_number - 1', 'touch_count') }} as {{ weight }})
            as position_based_before
    from numbered
),

final as (
    select
        order_id,
        touch_number,
        touch_count,
        customer_id,
        order_date,
        ordered_at,
        session_key,
        touched_at,
        channel_id,
        campaign_id,
        is_order_touch,
        is_new_customer_order,
        order_net_revenue_amount,
        first_touch_weight,
        last_touch_weight,
        linear_weight,
        time_decay_weight,
        position_based_weight,
        {#- first and last touch give one touch all of the revenue: exact as they are. -#}
        first_touch_weight * order_net_revenue_amount as first_touch_revenue_amount,
        last_touch_weight * order_net_revenue_amount as last_touch_revenue_amount,
        {%- for model in ['linear', 'time_decay', 'position_based'] %}
        {#- weight (12 places) x revenue in cents is exact in DECIMAL(36, 14); each product is
            rounded once, to 6 places, and the touch takes the difference of two of them. -#}
        cast({{ model }}_through * order_net_revenue_amount as {{ type_attributed_money() }})
            - cast({{ model }}_before * order_net_revenue_amount as {{ type_attributed_money() }})
            as {{ model }}_revenue_amount{{ "," if not loop.last }}
        {%- endfor %}
    from weighted
)

{{ select_bi_typed('final', {
    'order_net_revenue_amount': type_money(),
    'first_touch_revenue_amount': type_money(),
    'last_touch_revenue_amount': type_money(),
    'linear_revenue_amount': type_attributed_money(),
    'time_decay_revenue_amount': type_attributed_money(),
    'position_based_revenue_amount': type_attributed_money(),
}) }}
