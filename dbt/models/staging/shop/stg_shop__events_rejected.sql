{#- The quarantine of events: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('events', 'base_shop__events') }}
