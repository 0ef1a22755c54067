"""Recommendation and audience assets: thin wrappers around `ml/recommend.py` and
`ml/audiences.py`, writing to schema `ml`."""

import time
from datetime import timedelta

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    asset,
    multi_asset,
)
from pydantic import Field

from ml import audiences, recommend, registry
from ml.errors import NotEnoughData
from ml.warehouse import table_exists, write_table

from ..resources import ModelStore, WarehouseResource
from .metadata import markdown_table
from .skip import skip_assets

RECOMMENDATIONS = AssetKey(["ml", "customer_recommendations"])
EVALUATION = AssetKey(["ml", "recommendation_evaluation"])
AUDIENCES = AssetKey(["ml", "campaign_audiences"])
NDCG_GOAL = 0.2  # the goal: NDCG@10 at least 20% above popularity
_RECOMMEND, _AUDIENCE = recommend.RecommendSettings(), audiences.AudienceSettings()


class RecommendConfig(Config):
    """Run config of the recommender; defaults are `ml.recommend.RecommendSettings`."""

    top_n: int = Field(default=_RECOMMEND.top_n, ge=1, le=100)
    half_life_days: int = Field(default=_RECOMMEND.half_life_days, ge=1)
    neighbours: int = Field(default=_RECOMMEND.neighbours, ge=1, le=recommend.MAX_NEIGHBOURS)
    category_weight: float = Field(default=_RECOMMEND.category_weight, ge=0)
    popularity_weight: float = Field(
        default=_RECOMMEND.popularity_weight, ge=0,
        description="kept only when popularity_candidates is this one value (or nothing can "
                    "be chosen); otherwise the start while the buy-again weight is chosen")
    repeat_rate: float = Field(default=_RECOMMEND.repeat_rate, ge=0, le=1)
    buy_again_weight: float = Field(
        default=_RECOMMEND.buy_again_weight, ge=0,
        description="kept only when buy_again_candidates is this one value (or nothing can "
                    "be chosen: no repeatable category, too few customers)")
    buy_again_candidates: list[float] = Field(
        default=list(_RECOMMEND.buy_again_candidates), min_length=1,
        description="buy-again weights to choose from on the days before the evaluation's "
                    "(one fixes it)")
    popularity_candidates: list[float] = Field(
        default=list(_RECOMMEND.popularity_candidates), min_length=1,
        description="popularity weights to choose from on the same days, after the "
                    "buy-again weight (one fixes it)")
    repeat_prior_pairs: float = Field(default=_RECOMMEND.repeat_prior_pairs, ge=0)
    evaluation_days: int = Field(default=_RECOMMEND.evaluation_days, ge=1)


class AudienceConfig(Config):
    """Run config of the campaign audiences; defaults are `ml.audiences.AudienceSettings`."""

    frequency_cap: int = Field(default=_AUDIENCE.frequency_cap, ge=1)
    cap_days: int = Field(default=_AUDIENCE.cap_days, ge=1)
    holdout_share: float = Field(default=_AUDIENCE.holdout_share, ge=0, lt=1)
    new_customer_days: int = Field(default=_AUDIENCE.new_customer_days, ge=1)


@multi_asset(
    name="recommendations",
    group_name="ml",
    specs=[
        AssetSpec(RECOMMENDATIONS,
                  deps=[AssetKey(["marts", t]) for t in
                        ("fct_order_items", "fct_events", "dim_products", "dim_customers")],
                  description="Top N products per customer (rank, score, reason in words, "
                              "model version): item-based collaborative filtering on "
                              "purchases, carts and views, blended with the customer's "
                              "categories and popularity, and the customer's own repeat "
                              "purchases (buy again); the buy-again and popularity weights "
                              "are chosen on the days before the evaluation's; durables "
                              "are not offered again."),
        AssetSpec(EVALUATION, deps=[RECOMMENDATIONS],
                  description="Time-split evaluation of the recommender (the last 28 days' "
                              "purchases): hit rate, recall and NDCG at N and catalogue "
                              "coverage, against popularity, association rules, buy again "
                              "and random."),
    ],
)
def recommendations(context: AssetExecutionContext, config: RecommendConfig,
                    warehouse: WarehouseResource, models: ModelStore):
    """Evaluate the recommender on a time split, refit on all history, recommend."""
    started = time.perf_counter()
    settings = recommend.RecommendSettings(**{
        **config.model_dump(), "buy_again_candidates": tuple(config.buy_again_candidates),
        "popularity_candidates": tuple(config.popularity_candidates)})
    try:
        with warehouse.lock(context), warehouse.connect(read_only=True) as con:
            result = recommend.run(con, settings, log=context.log.info)
    except NotEnoughData as exc:
        yield from skip_assets(context, warehouse, "recommendations", [RECOMMENDATIONS, EVALUATION],
                         str(exc))
        return
    folder = registry.save(models.models_dir, result.record, {})
    with warehouse.lock(context), warehouse.connect() as con:
        rows = write_table(con, "customer_recommendations", result.recommendations)
        write_table(con, "recommendation_evaluation", result.metrics)
        registry.register(con, result.record, folder)
    metrics = result.metrics.set_index("method")
    model, popular = metrics.loc["item_cf_blend", "ndcg"], metrics.loc["popularity", "ndcg"]
    lift = model / popular - 1 if popular else float("nan")
    context.log.info(f"recommendations {result.record.version}: NDCG@{settings.top_n} "
                     f"{model:.3f} vs popularity {popular:.3f} ({lift:+.0%}), association "
                     f"rules {metrics.loc['association_rules', 'ndcg']:.3f}, buy again "
                     f"{metrics.loc['buy_again', 'ndcg']:.3f}, random "
                     f"{metrics.loc['random', 'ndcg']:.3f} (buy-again weight "
                     f"{result.record.extra['buy_again_weight']}, popularity weight "
                     f"{result.record.extra['popularity_weight']})")
    yield MaterializeResult(asset_key=RECOMMENDATIONS, metadata={
        "dagster/row_count": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "model_version": result.record.version,
        "model_path": str(folder),
        "customers": int(result.recommendations["customer_id"].nunique()),
        f"ndcg_at_{settings.top_n}": float(model),
        f"ndcg_at_{settings.top_n}_popularity": float(popular),
        "ndcg_above_popularity": float(lift),
        "goal_met": bool(lift >= NDCG_GOAL),
        "buy_again_weight": float(result.record.extra["buy_again_weight"]),
        "popularity_weight": float(result.record.extra["popularity_weight"]),
        "evaluation": markdown_table(result.metrics.drop(columns="cutoff_date")),
        "reasons": markdown_table(result.recommendations["reason"].str.extract(
            r"^(bought with|popular in category|popular now|you buy it regularly|"
            r"you bought it before)")[0].value_counts()
            .rename_axis("reason").reset_index()),
        "repurchase_rates": markdown_table(pd.DataFrame(
            result.record.extra["repurchase_rates"].items(), columns=["category", "rate"])),
    })
    yield MaterializeResult(asset_key=EVALUATION,
                            metadata={"dagster/row_count": len(result.metrics)})


@asset(
    key=AUDIENCES,
    group_name="ml",
    deps=[RECOMMENDATIONS, AssetKey(["ml", "customer_churn_scores"]),
          *(AssetKey(["marts", t]) for t in ("dim_customers", "customer_segments",
                                             "fct_orders", "fct_campaign_members"))],
)
def campaign_audiences(context: AssetExecutionContext, config: AudienceConfig,
                       warehouse: WarehouseResource) -> MaterializeResult:
    """Who to contact in the next win-back, new-customer, cross-sell and group-buy
    campaigns, with the product to offer and why: opted-in customers only, at most
    `frequency_cap` messages per `cap_days` across campaigns, and a stable holdout control
    group for measuring the uplift."""
    started = time.perf_counter()
    settings = audiences.AudienceSettings(**config.model_dump())
    with warehouse.lock(context), warehouse.connect(read_only=True) as con:
        has_recommendations = table_exists(con, "customer_recommendations")
        if has_recommendations:
            last = recommend.last_purchase_date(con)
            as_of = last + timedelta(days=1)
            customers, opted_in, recent = audiences.load_inputs(con, settings, as_of)
            offers = con.execute("select customer_id, recommendation_rank, product_id, reason "
                                 "from ml.customer_recommendations").df()
    if not has_recommendations:
        return next(skip_assets(context, warehouse, "campaign audiences", [AUDIENCES],
                          "there are no recommendations: the recommender was skipped"))
    rows = audiences.build(audiences.candidates(customers, offers, as_of, settings),
                           opted_in, recent, as_of, settings)
    with warehouse.lock(context), warehouse.connect() as con:
        count = write_table(con, "campaign_audiences", rows)
    sizes = rows.groupby(["campaign_type", "test_group"]).size().unstack(fill_value=0)
    context.log.info(f"campaign audiences as of {as_of}: {count:,} rows; "
                     f"{sizes.to_dict('index')}")
    return MaterializeResult(metadata={
        "dagster/row_count": count,
        "seconds": round(time.perf_counter() - started, 1),
        "as_of_date": str(as_of),
        "customers": int(rows["customer_id"].nunique()),
        "sizes": markdown_table(sizes.reset_index()),
        "frequency_cap": f"{settings.frequency_cap} per {settings.cap_days} days",
        "holdout_share": settings.holdout_share,
    })
