//! "Did you mean" suggestions shared by every stage that reports an unknown name.
//!
//! [`closest`] answers one question over a small list. A stage that reports many unknown names
//! against one large set (secrets' data against every key, `verify`'s references against every
//! Secret) builds an [`Index`] of that set once and asks it: a pull request's catalog can hold
//! thousands of misspelt references, and comparing each with every candidate is quadratic.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;

/// The candidate closest to `wanted`, if any is close enough to be a plausible typo or
/// abbreviation.
///
/// Plausible means a few edits away (at most a third of the name, and at least one or two
/// edits for short names; a swap of neighbours counts as one), or `wanted` is the beginning of
/// the candidate (`prod` for `production`). A shared prefix alone is not enough:
/// `grafana-oauth` is no typo of `grafana-admin-credentials`. Among plausible candidates the
/// fewest edits win, then the highest Jaro-Winkler similarity, then the alphabetically first.
///
/// For one name over a small list; many names over one set ask an [`Index`] of it instead.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    Index::new(candidates).closest(wanted)
}

/// The most work one [`Index`] does over all its lookups, in comparisons: each candidate a
/// lookup looks at counts one, and each edit distance it computes one more per 64 cells of its
/// table (a 24-character name against another is ten). Past it, every further lookup answers
/// `None`: the diagnostic then simply has no suggestion.
///
/// Ordinary lookups cost a few dozen comparisons (a typo is found among the few names one edit
/// away without looking at the rest), so the cap is only reached by thousands of names unlike
/// anything in a large set, each of which must be compared with every candidate of a similar
/// length: 20,000 such names against 20,000 candidates. The count does not depend on timing or
/// threads, so the same catalog always gets the same suggestions. (Not timed at the cap itself:
/// a comparison is a 128-byte character-count bound or a small table, tens of nanoseconds, so
/// the cap is on the order of a second.)
pub const WORK_CAP: u64 = 20_000_000;

/// [`closest`] over one set of candidates, for many lookups: built once per set.
///
/// Finds the same candidate as comparing `wanted` with every candidate would, without looking
/// at most of them:
/// - candidates sorted and without duplicates; those `wanted` abbreviates (is a prefix of) are
///   one range of them, found by binary search, and compete by their edit count (the length
///   they add);
/// - the candidates one edit away (the commonest typo, a swap of neighbours included) share
///   with `wanted` a spelling with at most one character deleted from each; an index of every
///   candidate's one-character deletions (hashed, built on the first lookup) finds them;
/// - only when none is one edit away, candidates of a length within the edit budget are looked
///   at, in order of length, each skipped when its characters alone rule it out (a character
///   count bound: the characters of one name the other lacks must each be edited), the rest
///   compared in full;
/// - among the candidates at the fewest edits the old tie-breaks decide (highest Jaro-Winkler,
///   then alphabetical order), and the answer is remembered for the next lookup of the name.
///
/// Lookups are bounded in total by [`WORK_CAP`]. Not `Sync`: ask it from one thread, in a fixed
/// order, so that the cap falls on the same lookups in every run.
pub struct Index<'a> {
    /// Sorted, without duplicates.
    names: Vec<&'a str>,
    /// Built on the first lookup: an index nobody asks costs a sort.
    lazy: OnceCell<Lazy>,
    memo: RefCell<HashMap<String, Option<usize>>>,
    work: Cell<u64>,
    cap: u64,
    /// The edit-distance table, kept between lookups.
    scratch: RefCell<Vec<usize>>,
}

/// The parts of an [`Index`] only a lookup needs.
struct Lazy {
    /// Each name's characters, by position in `names`.
    chars: Vec<Box<[char]>>,
    /// `(hash of a spelling with at most one character deleted, position in names)`, sorted.
    deletions: Vec<(u64, u32)>,
    /// Positions in `names` ordered by character count, then name.
    by_length: Vec<u32>,
    /// Each name's character counts by [`bucket`], saturating at 255.
    histograms: Vec<[u8; BUCKETS]>,
}

const BUCKETS: usize = 128;

impl<'a> Index<'a> {
    pub fn new(candidates: impl IntoIterator<Item = &'a str>) -> Self {
        Self::with_cap(candidates, WORK_CAP)
    }

    /// An index whose lookups stop at `cap` comparisons instead of [`WORK_CAP`].
    pub fn with_cap(candidates: impl IntoIterator<Item = &'a str>, cap: u64) -> Self {
        let mut names: Vec<&'a str> = candidates.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        Index {
            names,
            lazy: OnceCell::new(),
            memo: RefCell::default(),
            work: Cell::new(0),
            cap,
            scratch: RefCell::default(),
        }
    }

    /// The comparisons done so far (see [`WORK_CAP`]).
    pub fn work(&self) -> u64 {
        self.work.get()
    }

    /// [`closest`]`(wanted, candidates)`, answered from the index.
    pub fn closest(&self, wanted: &str) -> Option<&'a str> {
        if let Some(known) = self.memo.borrow().get(wanted) {
            return known.map(|i| self.names[i]);
        }
        let found = self.search(wanted);
        self.memo.borrow_mut().insert(wanted.to_string(), found);
        found.map(|i| self.names[i])
    }

    /// Count `units` of work; false once the cap is passed.
    fn spend(&self, units: u64) -> bool {
        let total = self.work.get().saturating_add(units);
        self.work.set(total);
        total <= self.cap
    }

    fn search(&self, wanted: &str) -> Option<usize> {
        if self.names.is_empty() || self.work.get() > self.cap {
            return None;
        }
        let lazy = self.lazy.get_or_init(|| Lazy::build(&self.names));
        let target: Vec<char> = wanted.chars().collect();
        let length = target.len();
        let budget = (length / 3).max(2);

        // Abbreviations: the sorted range of names starting with `wanted`, each `len - length`
        // edits away; the fewest of those bound the search below.
        let mut abbreviations: Vec<usize> = Vec::new();
        let mut abbreviation_edits = usize::MAX;
        if length >= 3 {
            let start = self.names.partition_point(|n| *n < wanted);
            let end = start + self.names[start..].partition_point(|n| n.starts_with(wanted));
            if !self.spend((end - start) as u64) {
                return None;
            }
            for i in (start..end).filter(|&i| self.names[i] != wanted) {
                let edits = lazy.chars[i].len() - length;
                if edits < abbreviation_edits {
                    abbreviation_edits = edits;
                    abbreviations.clear();
                }
                if edits == abbreviation_edits {
                    abbreviations.push(i);
                }
            }
        }

        // Iterative deepening: one edit, then up to the bound, stopping at the first distance
        // that has any candidate. Only distances up to the fewest abbreviation edits matter.
        let bound = budget.min(abbreviation_edits);
        let mut found = self.one_edit(lazy, wanted, &target)?;
        if found.is_empty() && bound >= 2 {
            found = self.within(lazy, wanted, &target, bound)?;
        }
        if found.is_empty() {
            // Nothing within the budget: the abbreviations adding the fewest characters.
            found = abbreviations;
        }
        if !self.spend(found.len() as u64) {
            return None;
        }
        // Ties: the highest Jaro-Winkler similarity, then the first name (`found` is in the
        // order of `names`, which is alphabetical).
        found.sort_unstable();
        found
            .into_iter()
            .map(|i| (strsim::jaro_winkler(wanted, self.names[i]), i))
            .reduce(|best, next| {
                if next.0.total_cmp(&best.0).is_gt() {
                    next
                } else {
                    best
                }
            })
            .map(|(_, i)| i)
    }

    /// Every name one edit from `wanted`, or `None` once the cap is passed.
    fn one_edit(&self, lazy: &Lazy, wanted: &str, target: &[char]) -> Option<Vec<usize>> {
        let mut seen: Vec<usize> = Vec::new();
        for hash in deletion_hashes(target) {
            let start = lazy.deletions.partition_point(|(h, _)| *h < hash);
            seen.extend(
                lazy.deletions[start..]
                    .iter()
                    .take_while(|(h, _)| *h == hash)
                    .map(|(_, i)| *i as usize),
            );
        }
        seen.sort_unstable();
        seen.dedup();
        let mut found = Vec::new();
        for i in seen {
            if self.names[i] == wanted {
                continue;
            }
            if !self.spend(1) {
                return None;
            }
            if one_edit_apart(target, &lazy.chars[i]) {
                found.push(i);
            }
        }
        Some(found)
    }

    /// Every name at the fewest edits, from 2 to `bound`, that any name is from `wanted`; none
    /// when every name is farther. `None` once the cap is passed.
    fn within(
        &self,
        lazy: &Lazy,
        wanted: &str,
        target: &[char],
        bound: usize,
    ) -> Option<Vec<usize>> {
        let length = target.len();
        let histogram = histogram(target);
        let shortest = length.saturating_sub(bound);
        let from = lazy
            .by_length
            .partition_point(|&i| lazy.chars[i as usize].len() < shortest);
        let to = lazy
            .by_length
            .partition_point(|&i| lazy.chars[i as usize].len() <= length + bound);
        let mut best = bound;
        let mut found = Vec::new();
        for &i in &lazy.by_length[from..to] {
            let i = i as usize;
            if !self.spend(1) {
                return None;
            }
            let other = &lazy.chars[i];
            // Each character of one name that the other lacks is an edit.
            let longer = length.max(other.len());
            let shared = if longer > usize::from(u8::MAX) {
                length.min(other.len())
            } else {
                shared(&histogram, &lazy.histograms[i])
            };
            if longer - shared > best || self.names[i] == wanted {
                continue;
            }
            let edits = self.distance(target, other)?;
            if edits < best {
                best = edits;
                found.clear();
            }
            if edits == best {
                found.push(i);
            }
        }
        Some(found)
    }

    /// The Damerau-Levenshtein distance, counted against the cap.
    fn distance(&self, a: &[char], b: &[char]) -> Option<usize> {
        let cells = (a.len() + 2) as u64 * (b.len() + 2) as u64;
        if !self.spend(1 + cells / 64) {
            return None;
        }
        Some(damerau_levenshtein(a, b, &mut self.scratch.borrow_mut()))
    }
}

impl Lazy {
    fn build(names: &[&str]) -> Lazy {
        let chars: Vec<Box<[char]>> = names.iter().map(|n| n.chars().collect()).collect();
        let mut deletions = Vec::with_capacity(chars.iter().map(|c| c.len() + 1).sum());
        for (i, name) in chars.iter().enumerate() {
            deletions.extend(deletion_hashes(name).map(|h| (h, i as u32)));
        }
        deletions.sort_unstable();
        deletions.dedup();
        let mut by_length: Vec<u32> = (0..chars.len() as u32).collect();
        // Stable: names of one length stay alphabetical.
        by_length.sort_by_key(|&i| chars[i as usize].len());
        let histograms = chars.iter().map(|c| histogram(c)).collect();
        Lazy {
            chars,
            deletions,
            by_length,
            histograms,
        }
    }
}

/// The hashes of `name` and of each spelling of it with one character deleted.
fn deletion_hashes(name: &[char]) -> impl Iterator<Item = u64> + '_ {
    // Polynomial hashes: hash(x ++ y) = hash(x) * P^|y| + hash(y).
    const P: u64 = 0x0100_0000_01b3;
    let n = name.len();
    let mut prefix = vec![0u64; n + 1];
    for (i, c) in name.iter().enumerate() {
        prefix[i + 1] = prefix[i].wrapping_mul(P).wrapping_add(u64::from(*c) + 1);
    }
    let mut suffix = vec![0u64; n + 1];
    let mut power = vec![1u64; n + 1];
    for i in (0..n).rev() {
        power[n - i] = power[n - i - 1].wrapping_mul(P);
        suffix[i] = (u64::from(name[i]) + 1)
            .wrapping_mul(power[n - i - 1])
            .wrapping_add(suffix[i + 1]);
    }
    let whole = std::iter::once(mix(prefix[n], n));
    let deleted = (0..n).map(move |i| {
        let tail = n - i - 1;
        let hash = prefix[i]
            .wrapping_mul(power[tail])
            .wrapping_add(suffix[i + 1]);
        mix(hash, n - 1)
    });
    whole.chain(deleted)
}

/// A hash and a length, mixed (splitmix64's finaliser) so that sorting spreads them.
fn mix(hash: u64, length: usize) -> u64 {
    let mut z = hash ^ (length as u64).rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Which count a character adds to: ASCII its own, others shared (which only loosens the bound).
fn bucket(c: char) -> usize {
    c as usize % BUCKETS
}

fn histogram(name: &[char]) -> [u8; BUCKETS] {
    let mut counts = [0u8; BUCKETS];
    for c in name {
        let slot = &mut counts[bucket(*c)];
        *slot = slot.saturating_add(1);
    }
    counts
}

/// At least as many characters as the two names have in common (as multisets), for names of at
/// most 255 characters (counts saturate).
fn shared(a: &[u8; BUCKETS], b: &[u8; BUCKETS]) -> usize {
    a.iter().zip(b).map(|(x, y)| usize::from(*x.min(y))).sum()
}

/// Whether the Damerau-Levenshtein distance of two different names is 1: one character
/// replaced, inserted or deleted, or two neighbours swapped.
fn one_edit_apart(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let head = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    match long.len() - short.len() {
        0 => {
            let tail = short.len() - head;
            head < short.len()
                && (short[head + 1..] == long[head + 1..]
                    || (tail >= 2
                        && short[head] == long[head + 1]
                        && short[head + 1] == long[head]
                        && short[head + 2..] == long[head + 2..]))
        }
        1 => short[head..] == long[head + 1..],
        _ => false,
    }
}

/// The (unrestricted) Damerau-Levenshtein distance, as `strsim::damerau_levenshtein` computes
/// it (Lowrance-Wagner, the same table), over characters and with the table kept in `table`.
fn damerau_levenshtein(a: &[char], b: &[char], table: &mut Vec<usize>) -> usize {
    let (m, n) = (a.len(), b.len());
    if m == 0 {
        return n;
    }
    if n == 0 {
        return m;
    }
    let width = n + 2;
    table.clear();
    table.resize((m + 2) * width, 0);
    let at = |i: usize, j: usize| i * width + j;
    let max = m + n;
    table[0] = max;
    for i in 0..=m {
        table[at(i + 1, 0)] = max;
        table[at(i + 1, 1)] = i;
    }
    for j in 0..=n {
        table[at(0, j + 1)] = max;
        table[at(1, j + 1)] = j;
    }
    // The last row in which each character of `a` was seen (ASCII in an array, others listed).
    let mut ascii = [0usize; 128];
    let mut others: Vec<(char, usize)> = Vec::new();
    for i in 1..=m {
        let mut db = 0;
        for j in 1..=n {
            let c = b[j - 1];
            let k = if c.is_ascii() {
                ascii[c as usize]
            } else {
                others
                    .iter()
                    .find(|(o, _)| *o == c)
                    .map_or(0, |(_, row)| *row)
            };
            let insertion = table[at(i, j + 1)] + 1;
            let deletion = table[at(i + 1, j)] + 1;
            let transposition = table[at(k, db)] + (i - k - 1) + 1 + (j - db - 1);
            let mut substitution = table[at(i, j)] + 1;
            if a[i - 1] == c {
                db = j;
                substitution -= 1;
            }
            table[at(i + 1, j + 1)] = substitution.min(insertion).min(deletion).min(transposition);
        }
        let c = a[i - 1];
        if c.is_ascii() {
            ascii[c as usize] = i;
        } else if let Some(slot) = others.iter_mut().find(|(o, _)| *o == c) {
            slot.1 = i;
        } else {
            others.push((c, i));
        }
    }
    table[at(m + 1, n + 1)]
}

#[cfg(test)]
mod tests {
    use super::{Index, closest};
    use proptest::prelude::*;

    /// The definition `closest` answers by: every candidate compared with `wanted`.
    fn brute_force<'a>(
        wanted: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
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

    #[test]
    fn the_distance_is_strsims() {
        let pairs = [
            ("", ""),
            ("a", ""),
            ("ca", "abc"),
            ("abcdef", "badcfe"),
            ("a cat", "an act"),
            ("héllo", "hlélo"),
            ("日本語", "本日語"),
        ];
        for (a, b) in pairs {
            let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let ours = super::damerau_levenshtein(&x, &y, &mut Vec::new());
            assert_eq!(ours, strsim::damerau_levenshtein(a, b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn one_index_answers_many_lookups_with_little_work() {
        let names: Vec<String> = (0..4000).map(|i| format!("key-{i:04}")).collect();
        let index = Index::new(names.iter().map(String::as_str));
        for i in (0..4000).step_by(7) {
            // `key-0123` → `key-0132`: neighbours swapped.
            let mut typo: Vec<char> = names[i].chars().collect();
            typo.swap(6, 7);
            let typo: String = typo.into_iter().collect();
            let expected = brute_force(&typo, names.iter().map(String::as_str));
            assert_eq!(index.closest(&typo), expected, "{typo}");
        }
        // Comparing each with every name would have made 2.3 million comparisons.
        assert!(index.work() < 150_000, "{}", index.work());
    }

    #[test]
    fn past_the_cap_suggestions_are_omitted() {
        let names: Vec<String> = (0..1000).map(|i| format!("name-{i:04}")).collect();
        let index = Index::with_cap(names.iter().map(String::as_str), 5_000);
        assert_eq!(index.closest("name-0001x"), Some("name-0001"));
        // Unlike every name: each looks at all of them, until the cap stops the lookups.
        for i in 0..100 {
            assert_eq!(index.closest(&format!("zzzz-{i}")), None);
        }
        assert!(index.work() > 5_000);
        assert_eq!(index.closest("name-0002x"), None, "past the cap");
        // Answers found before the cap are remembered.
        assert_eq!(index.closest("name-0001x"), Some("name-0001"));
    }

    /// Names from a small alphabet (so that many are a few edits apart), with multibyte
    /// characters.
    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec!['a', 'b', 'c', '-', '1', 'é', '日', 'ß']),
            0..9,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn the_index_finds_what_comparing_with_every_candidate_finds(
            candidates in proptest::collection::vec(name(), 0..40),
            wanted in proptest::collection::vec(name(), 1..8),
            derived in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4, any::<prop::sample::Index>()), 0..8),
        ) {
            let index = Index::new(candidates.iter().map(String::as_str));
            // Some names derived from a candidate (a typo of it, or a prefix), the rest free.
            let mut lookups = wanted;
            for (which, edit, at) in derived {
                if candidates.is_empty() {
                    break;
                }
                let mut chars: Vec<char> = which.get(&candidates).chars().collect();
                if chars.is_empty() {
                    continue;
                }
                let p = at.index(chars.len());
                match edit {
                    0 if p + 1 < chars.len() => chars.swap(p, p + 1),
                    1 => { chars.remove(p); }
                    2 => chars.insert(p, 'x'),
                    _ => chars.truncate(p.max(3)),
                }
                lookups.push(chars.into_iter().collect());
            }
            for wanted in &lookups {
                let expected = brute_force(wanted, candidates.iter().map(String::as_str));
                prop_assert_eq!(index.closest(wanted), expected, "{:?}", wanted);
                // Asked again, from the memo.
                prop_assert_eq!(index.closest(wanted), expected);
            }
        }

        #[test]
        fn the_distance_matches_strsim(a in name(), b in name()) {
            let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let distance = strsim::damerau_levenshtein(&a, &b);
            prop_assert_eq!(super::damerau_levenshtein(&x, &y, &mut Vec::new()), distance);
            prop_assert_eq!(super::one_edit_apart(&x, &y), distance == 1);
        }
    }
}
