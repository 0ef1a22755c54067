{#- One row per association rule "bought product_id, also bought associated_product_id" over
    counted orders: support (share of orders with both), confidence (share of orders with the
    product that also have the associated one), lift (confidence / the associated product's
    share of orders; above 1 means bought together more than by chance), and the rule's rank
    for its product. Rules below affinity_min_support, affinity_min_lift or
    affinity_min_pair_orders are left out. Business question: "what is frequently bought
    together, for cross-sell and bundles?" -#}
with items as (
    select distinct order_id, product_id
    from {{ ref('fct_order_items') }}
    where is_counted and not has_unknown_order and not has_unknown_product
),

order_total as (
    select count(distinct order_id) as order_count from items
),

product_orders as (
    select product_id, count(*) as order_count
    from items
    group by product_id
),

pairs as (
    select
        antecedent.product_id,
        consequent.product_id as associated_product_id,
        count(*) as pair_order_count
    from items as antecedent
    inner join items as consequent
        on antecedent.order_id = consequent.order_id
        and antecedent.product_id <> consequent.product_id
    group by antecedent.product_id, consequent.product_id
),

rules as (
    select
        pairs.product_id,
        pairs.associated_product_id,
        pairs.pair_order_count,
        antecedent.order_count as product_order_count,
        consequent.order_count as associated_product_order_count,
        cast(pairs.pair_order_count as double) / order_total.order_count as support,
        cast(pairs.pair_order_count as double) / antecedent.order_count as confidence,
        (cast(pairs.pair_order_count as double) / antecedent.order_count)
            / (cast(consequent.order_count as double) / order_total.order_count) as lift
    from pairs
    cross join order_total
    inner join product_orders as antecedent on pairs.product_id = antecedent.product_id
    inner join product_orders as consequent on pairs.associated_product_id = consequent.product_id
),

kept as (
    select *
    from rules
    where support >= {{ var('affinity_min_support') }}
        and lift >= {{ var('affinity_min_lift') }}
        and pair_order_count >= {{ var('affinity_min_pair_orders') }}
),

final as (
    select
        kept.*,
        row_number() over (
            partition by kept.product_id
            order by kept.lift desc, kept.pair_order_count desc, kept.associated_product_id
        ) as rule_rank
    from kept
)

select * from final
