"""Great Expectations suites as code: the raw contract and the published marts.

Division of labour with dbt (no expectation duplicated without a reason):
- dbt tests keep model-level constraints: keys unique and not null, relationships to
  dimensions, accepted values of staged columns, reconciliation.
- GX validates the raw drop before anything is built from it (required values,
  parseable times and numbers, accepted values, ranges, currencies with a rate, row
  counts, freshness, each with the quarantine tolerance) and the published marts'
  business ranges and shares that dbt does not test.
"""
