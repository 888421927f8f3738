"""The TAC registry: which brand and model each type allocation code belongs to.

`fields` validates one model's values, `registry` keeps the models (and answers the analysis'
lookups), `csv_import` loads a whole registry file, `requests` handles firms' requests for a
missing TAC (Tebliğ art. 8(4)).
"""
