"""GraphQL for individual registrations (Tebliğ art. 5): AKM and e-Devlet submissions,
their verification by the authorities, and staff whitelist removal and restore."""
