//! "Did you mean …?": the nearest of a set of known words to one that was mistyped, for a
//! subcommand, a dependency name or a `deps.toml` key.

/// The candidate nearest to `word` by edit distance, when it is near enough to be what was
/// meant (about one edit in three characters); the first of equally near ones.
pub fn nearest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, where swapping two neighbouring characters counts as one edit
/// (`chekc` is one edit from `check`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `1 dependency`, `3 dependencies`: a count with its noun in the right number.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_meant() {
        let commands = ["check", "list", "validate", "update", "verify", "patch"];
        assert_eq!(nearest("chekc", commands), Some("check"));
        assert_eq!(nearest("updte", commands), Some("update"));
        assert_eq!(nearest("lsit", commands), Some("list"));
        assert_eq!(nearest("nghttp2", commands), None);
        assert_eq!(nearest("sha265", ["sha256", "signature"]), Some("sha256"));
        assert_eq!(nearest("zzz", ["sha256"]), None);
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(count(1, "dependency", "dependencies"), "1 dependency");
        assert_eq!(count(0, "dependency", "dependencies"), "0 dependencies");
    }
}
