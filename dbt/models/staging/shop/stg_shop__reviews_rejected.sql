{#- The quarantine of reviews: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('reviews', 'base_shop__reviews') }}
