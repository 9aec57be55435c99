//! Internal telemetry of the pipeline: the only place that names its metrics
//! (`vigie_<component>_<name>_<unit>_total`, see docs/ARCHITECTURE.md).

use metrics::{counter, gauge, histogram};

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

/// A message was published to the bus (`duplicate`: the bus already had it).
pub fn bus_published(topic: &'static str, duplicate: bool) {
    counter!("vigie_bus_published_total", "topic" => topic).increment(1);
    if duplicate {
        counter!("vigie_bus_publish_duplicates_total", "topic" => topic).increment(1);
    }
}

/// A publish failed and is retried (`full`: the topic is at its limit, i.e. backpressure).
pub fn bus_publish_retry(topic: &'static str, full: bool) {
    let reason = if full { "full" } else { "unavailable" };
    counter!("vigie_bus_publish_retries_total", "topic" => topic, "reason" => reason).increment(1);
}

/// A message was delivered again (after a crash, a timeout or a retry).
pub fn redelivery(topic: &'static str) {
    counter!("vigie_bus_redeliveries_total", "topic" => topic).increment(1);
}

/// A message went to the dead-letter topic.
pub fn dead_letter(topic: &'static str) {
    counter!("vigie_bus_dead_letters_total", "topic" => topic).increment(1);
}

/// A detection batch the saved state already covered was ignored.
pub fn replay_ignored() {
    counter!("vigie_detect_replays_ignored_total").increment(1);
}

/// Size of a batch handled by a role (`ingest`, `worker_fetch`, `detector`, ...).
pub fn batch_size(role: &'static str, n: usize) {
    histogram!("vigie_bus_batch_size", "role" => role).record(n as f64);
}

/// Latency from publication by the ingest process (`published_to_stored`,
/// `published_to_detected`), in seconds.
pub fn latency(what: &'static str, ms: i64) {
    histogram!("vigie_scale_latency_seconds", "stage" => what).record(ms.max(0) as f64 / 1000.0);
}

/// Out-of-order detection batches waiting for an earlier sequence.
pub fn detector_buffered(n: usize) {
    gauge!("vigie_detect_buffered_batches").set(n as f64);
}

/// Lag and redeliveries of a durable consumer.
pub fn consumer_stats(consumer: &str, s: vigie_bus::ConsumerStats) {
    let c = consumer.to_owned();
    gauge!("vigie_bus_consumer_pending_messages", "consumer" => c.clone()).set(s.pending as f64);
    gauge!("vigie_bus_consumer_ack_pending_messages", "consumer" => c.clone())
        .set(s.ack_pending as f64);
    gauge!("vigie_bus_consumer_redelivered_messages", "consumer" => c).set(s.redelivered as f64);
}

/// This process runs `role`.
pub fn role_up(role: &'static str) {
    gauge!("vigie_role_up", "role" => role).set(1.0);
}
