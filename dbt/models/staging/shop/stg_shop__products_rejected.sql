{#- The quarantine of products: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('products', 'base_shop__products') }}
