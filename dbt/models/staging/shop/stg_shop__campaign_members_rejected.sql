{#- The quarantine of campaign_members: every row that broke the contract, as loaded, with the reason. -#}
{{ staged_rejected('campaign_members', 'base_shop__campaign_members') }}
