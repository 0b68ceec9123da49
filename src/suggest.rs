//! "Did you mean" suggestions shared by every stage that reports an unknown name.

/// The candidate closest to `wanted`, if any is close enough to be a plausible typo.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(wanted, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_typos_but_not_unrelated_names() {
        let keys = [
            "platform-db-url",
            "platform-db-password",
            "grafana-admin-user",
        ];
        assert_eq!(closest("platform-db-ulr", keys), Some("platform-db-url"));
        assert_eq!(
            closest("grafana-admin-usr", keys),
            Some("grafana-admin-user")
        );
        assert_eq!(closest("zzz", keys), None);
    }
}
