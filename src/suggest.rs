//! "Did you mean" suggestions shared by every stage that reports an unknown name.

/// The candidate closest to `wanted`, if any is close enough to be a plausible typo or
/// abbreviation.
///
/// Plausible means a few edits away (at most a third of the name, and at least one or two
/// edits for short names; a swap of neighbours counts as one), or `wanted` is the beginning of
/// the candidate (`prod` for `production`). A shared prefix alone is not enough:
/// `grafana-oauth` is no typo of `grafana-admin-credentials`. Among plausible candidates the
/// fewest edits win, then the highest Jaro-Winkler similarity, then the alphabetically first.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let budget = (wanted.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != wanted)
        .filter_map(|candidate| {
            let edits = strsim::damerau_levenshtein(wanted, candidate);
            let abbreviation = wanted.chars().count() >= 3 && candidate.starts_with(wanted);
            (edits <= budget || abbreviation).then(|| {
                let similarity = strsim::jaro_winkler(wanted, candidate);
                (edits, similarity, candidate)
            })
        })
        .min_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.1.total_cmp(&a.1))
                .then_with(|| a.2.cmp(b.2))
        })
        .map(|(_, _, candidate)| candidate)
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

    #[test]
    fn a_shared_prefix_alone_is_no_typo() {
        let names = ["grafana-admin-credentials", "ghcr-pull"];
        assert_eq!(closest("grafana-oauth", names), None);
        assert_eq!(closest("ghcr-pul", names), Some("ghcr-pull"));
    }

    #[test]
    fn abbreviations_and_short_names() {
        let envs = ["local", "dev", "production"];
        assert_eq!(closest("prod", envs), Some("production"));
        assert_eq!(closest("dve", envs), Some("dev"));
        assert_eq!(closest("staging", envs), None);
    }

    #[test]
    fn fewer_edits_win_over_similarity() {
        let keys = ["password", "passwords", "pass"];
        assert_eq!(closest("pasword", keys), Some("password"));
    }
}
