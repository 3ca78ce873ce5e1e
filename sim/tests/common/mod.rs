//! What the simulator's tests share.

/// The column names the report's table lists for `file`, in order.
pub fn documented_columns(report: &str, file: &str) -> Vec<String> {
    let prefix = format!("| {file} | `");
    report
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.split('`').next().unwrap_or_default().to_string())
        .collect()
}
