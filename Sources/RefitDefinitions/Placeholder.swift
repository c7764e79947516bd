// Placeholder until the definitions loader lands.
