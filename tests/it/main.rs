//! Integration tests: the real binary against temporary git repositories.
