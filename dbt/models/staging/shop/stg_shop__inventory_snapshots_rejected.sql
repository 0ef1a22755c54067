{#- The quarantine of inventory_snapshots: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('inventory_snapshots', 'base_shop__inventory_snapshots') }}
