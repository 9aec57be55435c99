//! Enrichment stages: normalization, entity extraction, language, lexicon sentiment, reach, boolean queries.
