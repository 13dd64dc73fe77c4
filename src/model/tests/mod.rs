//! Model tests: physics, pipeline, bursts, properties.

