"""The tables the models write to schema `ml`: each column's type and description, once.

`warehouse.write_table` casts a frame to these types (counts BIGINT, money DECIMAL(18,2),
forecasts, probabilities and metrics DOUBLE, dates DATE, times TIMESTAMP in UTC) and stores
the descriptions as DuckDB comments, which the serving copy carries to BI tools. A frame
with a column not listed here is refused: describe it here first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    description: str
    columns: dict[str, Column]


MONEY = "decimal(18, 2)"
C = Column

_PRODUCT = C("varchar", "Product key (marts.dim_products.product_id).")
_CUSTOMER = C("varchar", "Customer key (marts.dim_customers.customer_id).")
_QUANTILES = {
    "p10_units": C("double", "Units sold that day: 10th percentile of the forecast."),
    "p50_units": C("double", "Units sold that day: median forecast."),
    "p90_units": C("double", "Units sold that day: 90th percentile of the forecast."),
    "mean_units": C("double", "Units sold that day: expected value of the forecast (the "
                              "booster's, or its blend with a smoother: ml/demand.py)."),
}
_ORIGIN = C("date", "Last day of data the forecast was made from (its origin).")
_FORECAST_DATE = C("date", "The day forecast.")
_HORIZON = C("bigint", "Days between the origin and the forecast date (1 = the next day).")
_METHOD = C("varchar", "Which model or baseline the row is about.")

TABLES: dict[str, Table] = {
    "fct_demand_forecast": Table(
        "One row per product and day for the 28 days after the last day of data: "
        "LightGBM expected units of daily units sold and their negative binomial quantiles.",
        {"product_id": _PRODUCT, "forecast_date": _FORECAST_DATE, **_QUANTILES,
         "sd_units": C("double", "Units sold that day: standard deviation of the forecast "
                                 "(the negative binomial's around mean_units; ml/demand.py)."),
         "model_version": C("varchar", "Version of the demand model (ml.model_registry)."),
         "forecast_origin_date": _ORIGIN, "horizon_day": _HORIZON}),
    "demand_backtest": Table(
        "One row per backtest origin, product and day: actual units beside the model's "
        "forecasts and the seasonal-naive and 28-day moving average baselines, each made "
        "only from data up to the origin.",
        {"product_id": _PRODUCT, "forecast_origin_date": _ORIGIN,
         "forecast_date": _FORECAST_DATE, "horizon_day": _HORIZON,
         "seasonal_naive_units": C("double", "Baseline: units on the same weekday of the "
                                             "last week before the origin."),
         "moving_average_28d_units": C("double", "Baseline: mean daily units of the 28 days "
                                                 "up to the origin."),
         "zero_units": C("double", "Baseline: no sales (the do-nothing forecast)."),
         "croston_sba_units": C("double", "Baseline: Croston's method with the Syntetos-Boylan "
                                          "correction, from days up to the origin."),
         "tsb_units": C("double", "Baseline: Teunter-Syntetos-Babai intermittent-demand "
                                  "method, from days up to the origin."),
         **_QUANTILES,
         "booster_mean_units": C("double", "The expected-units booster's own forecast, "
                                           "before the blend with a smoother that "
                                           "mean_units may be (ml/demand.py)."),
         "actual_units": C("bigint", "Units actually sold that day (counted orders).")}),
    "demand_backtest_metrics": Table(
        "One row per backtest origin (or 'all'), density class (or 'all') and method: "
        "forecast error metrics, M5's scaled errors first.",
        {"forecast_origin": C("varchar", "Backtest origin date, or 'all' for every origin."),
         "density_class": C("varchar", "Products of the row: all, dense, intermittent, lumpy "
                                       "or no_sales (Syntetos-Boylan ADI/CV2 classes)."),
         "method": _METHOD,
         "wrmsse": C("double", "Revenue-weighted RMSSE, the mean of the shop, category and "
                               "product levels (M5); lower is better."),
         "wrmsse_shop": C("double", "RMSSE of the shop's total daily units."),
         "wrmsse_category": C("double", "Revenue-weighted RMSSE of the categories' daily units."),
         "wrmsse_product": C("double", "Revenue-weighted RMSSE of the products' daily units."),
         "rmsse_mean": C("double", "Unweighted mean RMSSE over the products."),
         "products": C("bigint", "Products evaluated."),
         "weight_share": C("double", "The class's share of the revenue weight."),
         "pinball_p10": C("double", "Pinball loss of the p10 forecast (lightgbm_p50 row)."),
         "pinball_p50": C("double", "Pinball loss of the p50 forecast (lightgbm_p50 row)."),
         "pinball_p90": C("double", "Pinball loss of the p90 forecast (lightgbm_p50 row)."),
         "below_p10_share": C("double", "Share of actuals below p10 (nominally 0.1)."),
         "above_p90_share": C("double", "Share of actuals above p90 (nominally 0.1)."),
         "quantile_calibration_error": C(
             "double", "Mean over p10, p50, p90 of how far tau lies outside [share of "
                       "actuals below the quantile, share at or below it]; 0 is calibrated "
                       "(count data: ml/demand_eval.py); only on the lightgbm_p50 row."),
         "wape": C("double", "Weighted absolute percentage error: sum |error| / sum actual."),
         "mae": C("double", "Mean absolute error, units per product and day."),
         "rmse": C("double", "Root mean squared error, units per product and day."),
         "bias": C("double", "Mean of forecast minus actual, units per product and day."),
         "rows": C("bigint", "Product-days evaluated."),
         "p10_p90_coverage": C("double", "Share of actuals within [p10, p90] (nominally "
                                         "0.8); only on the lightgbm_p50 row.")}),
    "inventory_reorder_alerts": Table(
        "One row per product: safety stock, reorder point and stock position from the "
        "demand forecast and the latest inventory snapshot, stock-out dates and an alert "
        "level (formulas in ml/inventory.py).",
        {"product_id": _PRODUCT,
         "product_name": C("varchar", "Product name."),
         "category": C("varchar", "Product category."),
         "is_active": C("boolean", "Whether the product is still sold."),
         "forecast_origin_date": _ORIGIN,
         "lead_time_days": C("bigint", "Days a reorder takes to arrive (run config)."),
         "service_level": C("double", "Wanted chance of not running out (run config)."),
         "lead_time_demand_units": C("double", "Expected units sold within the lead time."),
         "safety_stock_units": C("double", "Extra units held against forecast error."),
         "horizon_demand_units": C("double", "Expected units sold within the 28 days."),
         "reorder_point_units": C("double", "Lead-time demand plus safety stock."),
         "snapshot_date": C("date", "Day of the latest inventory snapshot used."),
         "on_hand_units": C("bigint", "Units on hand: the snapshot less units sold since."),
         "on_order_units": C("bigint", "Units ordered from suppliers, not yet received."),
         "stock_position_units": C("bigint", "On hand plus on order."),
         "expected_stockout_date": C("date", "First day expected demand exceeds the stock "
                                             "position (empty: not within 28 days)."),
         "stockout_risk_date": C("date", "First day demand at the service level exceeds the "
                                         "stock position."),
         "needs_reorder": C("boolean", "Stock position at or below the reorder point."),
         "suggested_order_units": C("bigint", "Units to order to cover 28 days of demand "
                                              "and safety stock (0 when no reorder)."),
         "alert_level": C("varchar", "stock_out_risk, reorder, ok or no_stock_data.")}),
    "customer_churn_scores": Table(
        "One row per active customer at the scoring cutoff: churn probability (no counted "
        "order in the next 90 days), risk tier, top reasons and a suggested win-back action.",
        {"customer_id": _CUSTOMER,
         "scored_at_cutoff_date": C("date", "The day the customer was scored as of."),
         "churn_score": C("double", "Probability of churning, 0 to 1 (LightGBM)."),
         "risk_tier": C("varchar", "high, medium or low, from the score."),
         "top_reasons": C("varchar", "The features that raised the score most, in words "
                                     "('; ' between them)."),
         "suggested_action": C("varchar", "Win-back action; messages only for customers who "
                                          "opted in to marketing."),
         "is_marketing_opt_in": C("boolean", "The customer accepts marketing messages."),
         "is_high_value": C("boolean", "Among the top 20% by net revenue of the last 365 days."),
         "revenue_365d_amount": C(MONEY, "Net revenue of the last 365 days before the "
                                         "cutoff, in the base currency."),
         "recency_days": C("bigint", "Days since the last counted order."),
         "model_version": C("varchar", "Version of the churn model (ml.model_registry).")}),
    "churn_evaluation": Table(
        "One row per active customer at the held-out evaluation cutoff: whether they "
        "churned and each method's score.",
        {"customer_id": _CUSTOMER,
         "cutoff_date": C("date", "The held-out evaluation cutoff."),
         "is_churned": C("boolean", "No counted order in the 90 days after the cutoff."),
         "lightgbm_probability": C("double", "The model's churn probability."),
         "recency_days": C("bigint", "Days since the last counted order (the recency "
                                     "rule's score)."),
         "bgnbd_expected_purchases": C("double", "BG/NBD expected purchases in the next 90 "
                                                 "days."),
         "bgnbd_probability_no_purchase": C("double", "BG/NBD probability of no purchase in "
                                                      "the next 90 days.")}),
    "churn_evaluation_metrics": Table(
        "One row per method on the held-out cutoff: ranking and calibration metrics.",
        {"cutoff_date": C("date", "The held-out evaluation cutoff."),
         "method": _METHOD,
         "roc_auc": C("double", "Area under the ROC curve."),
         "pr_auc": C("double", "Area under the precision-recall curve."),
         "brier": C("double", "Brier score of the probability, where the method gives one."),
         "top_decile_lift": C("double", "Churn rate of the top-scored 10% over the overall "
                                        "churn rate."),
         "calibration_error": C("double", "Mean absolute gap between predicted and observed "
                                          "churn over the reliability bins."),
         "churn_rate": C("double", "Share of customers who churned."),
         "customers": C("bigint", "Customers evaluated.")}),
    "model_registry": Table(
        "One row per saved model version: training window, data fingerprint, settings, "
        "metrics and where it is saved.",
        {"model_name": C("varchar", "demand_forecast, churn or recommendations."),
         "model_version": C("varchar", "Hash of settings, training data and code."),
         "created_at": C("timestamp", "When the model was trained (UTC)."),
         "training_first_date": C("date", "First day of the training data."),
         "training_last_date": C("date", "Last day of the training data."),
         "training_points": C("varchar", "Forecast origins or churn cutoffs trained on."),
         "training_rows": C("bigint", "Rows the model was trained on."),
         "training_data_sha256": C("varchar", "Fingerprint of the training data."),
         "code_version": C("varchar", "Fingerprint of the ml package's code."),
         "settings_json": C("varchar", "Training settings (JSON)."),
         "metrics_json": C("varchar", "Evaluation metrics (JSON)."),
         "artifact_path": C("varchar", "Folder of the saved model files.")}),
    "customer_recommendations": Table(
        "One row per customer opted in to marketing (latest marketing_opt_in) and rank: "
        "the top products to offer, with a score and a reason in words (item-based "
        "collaborative filtering blended with category taste, popularity and the "
        "customer's own repeat purchases; bought durables are not offered again).",
        {"customer_id": _CUSTOMER,
         "recommendation_rank": C("bigint", "1 = best."),
         "product_id": _PRODUCT,
         "score": C("double", "Blended score; comparable within one customer only."),
         "reason": C("varchar", "'you buy it regularly' or 'you bought it before' (the "
                                "buy-again term outweighs the collaborative one), 'bought "
                                "with <product>', 'popular in category <category>' or "
                                "'popular now'."),
         "model_version": C("varchar", "Version of the recommender (ml.model_registry).")}),
    "recommendation_evaluation": Table(
        "One row per method (item_cf_blend and the baselines popularity, "
        "association_rules, buy_again and random) on the held-out last 28 days: ranking "
        "quality of its top 10 for the customers who bought then.",
        {"method": _METHOD,
         "hit_rate": C("double", "Share of customers with at least one bought product in "
                                 "their list."),
         "recall": C("double", "Mean share of each customer's bought products in the list."),
         "ndcg": C("double", "Mean normalised discounted cumulative gain (binary relevance)."),
         "coverage": C("double", "Share of active products recommended to anyone."),
         "customers": C("bigint", "Customers evaluated."),
         "cutoff_date": C("date", "First day of the held-out window.")}),
    "campaign_audiences": Table(
        "One row per planned campaign type and customer to contact: the product to offer "
        "and why; opted-in customers only, frequency-capped across campaigns, with a stable "
        "holdout control group.",
        {"campaign_type": C("varchar", "win_back, new_customer, cross_sell or group_buy."),
         "customer_id": _CUSTOMER,
         "offer_product_id": _PRODUCT,
         "reason": C("varchar", "Why the customer is in the audience, and why this offer."),
         "priority": C("bigint", "Order in which campaign types claim customers under the "
                                 "frequency cap (1 first)."),
         "test_group": C("varchar", "treatment (contact) or control (hold out, to measure "
                                    "the uplift)."),
         "as_of_date": C("date", "The day the audience was built for (the day after the "
                                 "newest order).")}),
}
