{#- The quarantine of customers: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('customers', 'base_shop__customers') }}
