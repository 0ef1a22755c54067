{#- One row per association rule "bought product_id, also bought associated_product_id" over
    counted orders: support (share of orders with both), confidence (share of orders with the
    product that also have the associated one), lift (confidence / the associated product's
    share of orders; above 1 means bought together more than by chance), a credible lower
    bound of the lift, and the rule's rank for its product by that bound.
    Lift alone rewards rare pairs: two products sold three times, always together, have a
    lift in the thousands. So each rule's lift is also estimated as the ratio of the pair's
    orders to the orders expected by chance, E = orders(a) x orders(b) / orders, under a
    Gamma(s, s) prior centred on 1 (s = affinity_prior_orders pseudo-orders); its posterior
    is Gamma(s + pair orders, s + E), and the 5% quantile (Wilson-Hilferty) is the lower
    bound. Three orders give a bound near 1.4 however rare the products; fifty orders at
    E = 0.8 give about 22. Rules are kept when the bound is above affinity_min_lift and the
    pair is in at least max(affinity_min_pair_orders, affinity_min_pair_share x orders)
    orders and affinity_min_support of them. Business question: "what is frequently bought
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
            / (cast(consequent.order_count as double) / order_total.order_count) as lift,
        cast(antecedent.order_count as double) * consequent.order_count
            / order_total.order_count as expected_pair_order_count,
        order_total.order_count as all_order_count
    from pairs
    cross join order_total
    inner join product_orders as antecedent on pairs.product_id = antecedent.product_id
    inner join product_orders as consequent on pairs.associated_product_id = consequent.product_id
),

bounded as (
    select
        rules.*,
        {{ gamma_ratio_lower_bound(
            'pair_order_count', 'expected_pair_order_count', var('affinity_prior_orders')) }}
            as lift_lower_bound
    from rules
),

kept as (
    select *
    from bounded
    where support >= {{ var('affinity_min_support') }}
        and lift_lower_bound >= {{ var('affinity_min_lift') }}
        and pair_order_count >= greatest(
            {{ var('affinity_min_pair_orders') }},
            ceil({{ var('affinity_min_pair_share') }} * all_order_count))
),

final as (
    select
        kept.*,
        row_number() over (
            partition by kept.product_id
            order by kept.lift_lower_bound desc, kept.pair_order_count desc,
                kept.associated_product_id
        ) as rule_rank
    from kept
)

select * exclude (all_order_count) from final
