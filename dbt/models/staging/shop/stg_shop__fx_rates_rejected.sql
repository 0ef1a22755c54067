{#- The quarantine of fx_rates: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('fx_rates', 'base_shop__fx_rates') }}
