"""The firm application workflow after the analysis (Tebliğ art. 6–10 and 15, guide §3–6):
documents, signature, review, fee, payment, whitelist, permit, customs documents, and the
e-mails that tell the firm about each step. Status changes go through
`resolvers.applications.transitions` only."""
