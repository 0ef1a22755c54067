{{ config(meta={'dagster': {'ref': {'name': 'channels'}}}) }}
{#- Under every attribution model the channels' attributed revenue sums to the net revenue of
    all counted orders, each order's touch weights sum to 1 and its revenue shares add up
    to its net revenue exactly (DECISIONS 33). Returns offending rows. -#}
{%- set models = attribution_models() -%}
with orders as (
    select sum(net_revenue_amount) as net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted
),

channels as (
    select
        {%- for model in models %}
        sum(attributed_revenue_{{ model }}_amount) as {{ model }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('channels') }}
),

totals as (
    {%- for model in models %}
    select '{{ model }}' as model, channels.{{ model }} as attributed, orders.net_revenue_amount
    from channels cross join orders
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

weights as (
    select
        order_id,
        {%- for model in models %}
        sum({{ model }}_weight) as {{ model }},
        sum({{ model }}_revenue_amount) - max(order_net_revenue_amount)
            as {{ model }}_revenue_gap{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_order_attribution') }}
    group by order_id
)

select model, cast(null as {{ dbt.type_string() }}) as order_id, attributed, net_revenue_amount
from totals
where abs(coalesce(attributed, 0) - coalesce(net_revenue_amount, 0)) > 0.01
union all
select 'weights' as model, order_id, null, null
from weights
where {% for model in models -%}
    abs({{ model }} - 1) > 1e-9 or {{ model }}_revenue_gap != 0{{ " or " if not loop.last }}
    {%- endfor %}
