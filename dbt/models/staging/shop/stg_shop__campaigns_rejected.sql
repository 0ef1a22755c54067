{#- The quarantine of campaigns: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('campaigns', 'base_shop__campaigns') }}
