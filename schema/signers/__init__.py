"""Firms' authorised signers (Tebliğ art. 8(1)): registered by staff, read by the firm."""
