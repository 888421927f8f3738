"""What happens to registered IMEIs later (Tebliğ art. 11, 13, 14, 16).

* `replacements` — mainboard and swap devices: a firm reports which whitelisted IMEI each
  held IMEI replaces (art. 11); `changed_imeis` — the same in bulk from an Ek-3 file, checked
  as a whole and applied only when the firm confirms (art. 16).
* `corrections` — a firm asks to correct wrongly declared IMEIs; staff decide (art. 13).
* `pairing` — an IMEI with an altered identity is paired with one GSM number (art. 14);
  `pairing_changes` writes pairings and serves their feed to operators.
* `exports` — an application's Ek-2 IMEI list and Ek-3 replacement list as text;
  `letters` — the decisions as PDF letters in Turkish.

Whitelist changes go through `resolvers.registry_changes`, in the same transaction as the
audit event, so operators see them in the whitelist feed in commit order.
"""
