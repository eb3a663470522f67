//! Local gateway simulator (placeholder; being written).
