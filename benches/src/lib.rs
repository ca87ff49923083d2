//! Benchmarks of the engine; see `benches/` and `make bench`.
