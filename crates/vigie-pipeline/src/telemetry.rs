//! Internal telemetry of the pipeline: the only place that names its metrics
//! (`vigie_<component>_<name>_<unit>_total`, see docs/ARCHITECTURE.md).

use metrics::{counter, histogram};

/// Mentions entered the pipeline.
pub fn mentions_received(n: usize) {
    counter!("vigie_pipeline_mentions_received_total").increment(n as u64);
}

/// Mentions stored (new) and skipped as duplicates.
pub fn mentions_stored(new: u64, duplicates: u64) {
    counter!("vigie_pipeline_mentions_stored_total").increment(new);
    counter!("vigie_pipeline_mentions_duplicate_total").increment(duplicates);
}

/// Records rejected by a source (unparseable lines).
pub fn records_rejected(source: &str, n: usize) {
    counter!("vigie_connector_records_rejected_total", "component_id" => source.to_owned())
        .increment(n as u64);
}

/// A connector poll failed.
pub fn connector_error(source: &str) {
    counter!("vigie_connector_poll_errors_total", "component_id" => source.to_owned()).increment(1);
}

/// A batch could not be stored.
pub fn store_error() {
    counter!("vigie_pipeline_store_errors_total").increment(1);
}

/// Time to store and detect one batch.
pub fn batch_seconds(stage: &'static str, secs: f64) {
    histogram!("vigie_pipeline_batch_seconds", "stage" => stage).record(secs);
}

/// Signals emitted, by kind.
pub fn signal(kind: &'static str) {
    counter!("vigie_detect_signals_total", "kind" => kind).increment(1);
}

/// Level changes, by new level.
pub fn level_change(level: &'static str) {
    counter!("vigie_detect_level_changes_total", "level" => level).increment(1);
}
