{#- The quarantine of order_items: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('order_items', 'base_shop__order_items') }}
