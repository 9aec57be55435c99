//! HTTP server: health, Prometheus metrics and the JSON API under /api/v1.
