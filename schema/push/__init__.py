"""What the subscriptions deliver (the areas' `*Subscriptions` classes use these types)."""
