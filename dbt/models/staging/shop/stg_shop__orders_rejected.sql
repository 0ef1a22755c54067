{#- The quarantine of orders: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('orders', 'base_shop__orders') }}
