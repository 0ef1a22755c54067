{% macro two_sided_p_value(z) -%}
    {#- P(|Z| >= |z|) for a standard normal Z: 1 - erf(|z| / sqrt 2), with erf from
        Abramowitz & Stegun 7.1.26 (absolute error under 1.5e-7). Portable SQL: exp, abs. -#}
    (
        (1.0 / (1.0 + 0.3275911 * abs({{ z }}) / sqrt(2.0)))
        * (0.254829592 + (1.0 / (1.0 + 0.3275911 * abs({{ z }}) / sqrt(2.0)))
        * (-0.284496736 + (1.0 / (1.0 + 0.3275911 * abs({{ z }}) / sqrt(2.0)))
        * (1.421413741 + (1.0 / (1.0 + 0.3275911 * abs({{ z }}) / sqrt(2.0)))
        * (-1.453152027 + (1.0 / (1.0 + 0.3275911 * abs({{ z }}) / sqrt(2.0)))
        * 1.061405429))))
        * exp(-({{ z }}) * ({{ z }}) / 2.0)
    )
{%- endmacro %}

{% macro wilson_bound(rate, n, z, sign) -%}
    {#- Lower (sign '-') or upper ('+') bound of the Wilson score interval of a rate
        observed in n trials. -#}
    (({{ rate }} + {{ z }} * {{ z }} / (2.0 * {{ n }}))
     {{ sign }} {{ z }} * sqrt({{ rate }} * (1 - {{ rate }}) / {{ n }}
                              + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})))
    / (1 + {{ z }} * {{ z }} / {{ n }})
{%- endmacro %}

{% macro gamma_ratio_lower_bound(observed, expected, prior) -%}
    {#- 5% credible lower bound of a rate ratio observed / expected (counts), under a
        Gamma(prior, prior) prior centred on 1: the posterior is Gamma(prior + observed,
        prior + expected), and its 5% quantile is taken by the Wilson-Hilferty cube
        approximation, k / rate x (1 - 1/(9k) - 1.645 sqrt(1/(9k)))^3 with k = prior +
        observed. Shrinks rare counts towards 1 (DuMouchel's empirical-Bayes idea for rare
        pairs). Portable SQL: sqrt, power. -#}
    (({{ prior }} + {{ observed }}) / ({{ prior }} + {{ expected }})
     * power(1 - 1.0 / (9 * ({{ prior }} + {{ observed }}))
             - 1.645 * sqrt(1.0 / (9 * ({{ prior }} + {{ observed }}))), 3))
{%- endmacro %}

{% macro exact_var_samp(expression) -%}
    {#- Sample variance from exact DECIMAL sums (4 decimals), so it does not depend on the
        order threads combine rows in, as var_samp's floating-point running update does
        (two builds of one drop differed at 1e-15). Null for fewer than two values. -#}
    {%- set value = "cast(" ~ expression ~ " as decimal(18, 4))" -%}
    cast(count({{ value }}) * sum({{ value }} * {{ value }}) - sum({{ value }}) * sum({{ value }}) as double)
        / nullif(count({{ value }}) * (count({{ value }}) - 1), 0)
{%- endmacro %}
