//! Business metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per batch,
//! which CloudWatch turns into metrics in namespace `ctvisma` with the dimension `Function`
//! (the names the template's dashboard and alarms use).

use std::collections::BTreeMap;

/// Counts of one batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts(pub BTreeMap<&'static str, u64>);

impl Counts {
    pub fn add(&mut self, metric: &'static str, n: u64) {
        *self.0.entry(metric).or_default() += n;
    }

    /// The EMF document for these counts.
    pub fn emf(&self, function: &str, timestamp_ms: i64) -> serde_json::Value {
        let metrics: Vec<serde_json::Value> = self
            .0
            .keys()
            .map(|name| serde_json::json!({"Name": name, "Unit": "Count"}))
            .collect();
        let mut doc = serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{"Namespace": "ctvisma", "Dimensions": [["Function"]], "Metrics": metrics}]
            },
            "Function": function,
        });
        for (name, value) in &self.0 {
            doc[*name] = serde_json::json!(value);
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_names_every_metric_and_its_value() {
        let mut c = Counts::default();
        c.add("PostingsCreated", 2);
        c.add("Parked", 1);
        let doc = c.emf("orders", 1_700_000_000_000);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ctvisma");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(),
            2
        );
        assert_eq!(doc["PostingsCreated"], 2);
        assert_eq!(doc["Function"], "orders");
    }
}
