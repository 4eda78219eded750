//! Edit distance for typo tolerance on names and titles: how far a typed word is from a term,
//! bounded so that a far term is rejected after a few cells instead of a whole table.

/// Edits allowed for a typed word: none under 4 characters (every short word is one edit from
/// dozens of others), 1 up to 7, 2 from 8.
pub fn allowed_edits(word_chars: usize) -> u32 {
    match word_chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// The smallest Levenshtein distance between `word` and `term` or any prefix of `term` (the
/// user may not have finished typing), if it is at most `max`; `None` otherwise.
pub fn prefix_distance(word: &[char], term: &str, max: u32) -> Option<u32> {
    let term: Vec<char> = term.chars().collect();
    // Rows run over the term, columns over the word: after the row of the term's j-th char,
    // the last column is the distance from the whole word to the term's prefix of length j.
    let n = word.len();
    let mut prev: Vec<u32> = (0..=n as u32).collect();
    let mut cur = vec![0u32; n + 1];
    let mut best = prev[n];
    for (j, &tc) in term.iter().enumerate() {
        cur[0] = j as u32 + 1;
        let mut row_min = cur[0];
        for i in 1..=n {
            let cost = u32::from(word[i - 1] != tc);
            cur[i] = (prev[i - 1] + cost).min(prev[i] + 1).min(cur[i - 1] + 1);
            row_min = row_min.min(cur[i]);
        }
        best = best.min(cur[n]);
        std::mem::swap(&mut prev, &mut cur);
        // Every later cell grows from this row: once all of it is over the bound, stop.
        if row_min > max {
            break;
        }
    }
    (best <= max).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(word: &str, term: &str, max: u32) -> Option<u32> {
        prefix_distance(&word.chars().collect::<Vec<_>>(), term, max)
    }

    #[test]
    fn distances_to_whole_terms_and_prefixes() {
        assert_eq!(d("paymnts", "payments", 1), Some(1));
        assert_eq!(d("pymant", "payments", 2), Some(2));
        assert_eq!(d("paymnt", "payments", 1), Some(1)); // "payment", a prefix
        assert_eq!(d("invntory", "inventory", 2), Some(1));
        assert_eq!(d("ledger", "payments", 2), None);
        assert_eq!(d("abc", "abc", 0), Some(0));
    }

    #[test]
    fn short_words_get_no_edits() {
        assert_eq!(allowed_edits(3), 0);
        assert_eq!(allowed_edits(5), 1);
        assert_eq!(allowed_edits(9), 2);
    }
}
