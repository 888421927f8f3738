"""After registration in GraphQL: replacements (typed and Ek-3), corrections, pairing."""
