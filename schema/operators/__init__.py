"""The operator interface in GraphQL: checks, feeds, blacklist, observations, clone list."""
