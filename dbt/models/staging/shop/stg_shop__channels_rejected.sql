{#- The quarantine of channels: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('channels', 'base_shop__channels') }}
