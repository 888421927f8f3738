"""The firm workflow in GraphQL: documents, signature, review, fees, payment, customs."""
