//! URL parsing (placeholder until the module lands)
