{#- The quarantine of ad_spend: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('ad_spend', 'base_shop__ad_spend') }}
