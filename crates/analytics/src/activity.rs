//! The daily roll-ups held in memory: for each user, the days they were active with the
//! features they used (a bit each) and their searches. Loaded from `analytics_user_days` and
//! `analytics_search_days` on first use and kept current by every write, so a summary over a
//! year of 5,000 users reads memory, not millions of rows (docs/benchmarks.md). Other replicas'
//! writes arrive by reloading the last two days every minute ([`crate::Recorder::run`]).

use std::collections::{BTreeMap, HashMap};

/// Users are looked up tens of thousands of times per summary: a fast hasher (the keys are
/// catalog refs, not attacker-chosen in bulk).
type UserMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

use chrono::{Datelike, NaiveDate};

/// Features beyond this many share the last bit, shown as `other`.
const MAX_FEATURES: usize = 64;

/// A day as a number, for ranges and arithmetic.
pub type Day = i32;

pub fn day_of(d: NaiveDate) -> Day {
    d.num_days_from_ce()
}

pub fn date_of(d: Day) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()
}

/// One user's use on one day: 24 bytes with its day, so a year of 5,000 engineers stays in the
/// tens of megabytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct DayUse {
    pub features: u64,
    pub searches: u32,
    /// Results opened (their ranks are in [`Activity::ranks`], kept only for such days).
    pub opened: u32,
}

/// Per user, the days they were active in day order.
type Days = Vec<(Day, DayUse)>;

#[derive(Debug, Default)]
pub struct Activity {
    features: Vec<String>,
    bits: HashMap<String, u32>,
    pub(crate) users: UserMap<Days>,
    /// Results opened by rank, per user and day, for the days that have any.
    ranks: UserMap<BTreeMap<Day, Vec<(u16, u32)>>>,
}

/// Searches run and results opened over a group and a window.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SearchCounts {
    pub searches: u64,
    pub opened: u64,
    /// Opened results per rank.
    pub ranks: BTreeMap<u16, u64>,
}

impl Activity {
    /// The bit of `feature`, given one on first sight.
    pub fn bit(&mut self, feature: &str) -> u32 {
        if let Some(b) = self.bits.get(feature) {
            return *b;
        }
        if self.features.len() >= MAX_FEATURES - 1 {
            self.features.truncate(MAX_FEATURES - 1);
            self.features.push("other".into());
            return (MAX_FEATURES - 1) as u32;
        }
        let b = self.features.len() as u32;
        self.features.push(feature.to_owned());
        self.bits.insert(feature.to_owned(), b);
        b
    }

    pub fn feature_names(&self) -> &[String] {
        &self.features
    }

    pub fn feature_bit(&self, feature: &str) -> Option<u32> {
        self.bits.get(feature).copied()
    }

    pub fn used(&mut self, day: NaiveDate, user: &str, feature: &str) {
        let bit = self.bit(feature);
        self.entry(day, user).features |= 1 << bit;
    }

    /// Adds (or with `replace`, sets) `n` searches (`rank` 0) or `n` results opened at `rank`.
    pub fn searched(&mut self, day: NaiveDate, user: &str, rank: i64, n: i64, replace: bool) {
        let n = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        let set = |old: u32| if replace { n } else { old.saturating_add(n) };
        if rank <= 0 {
            let e = self.entry(day, user);
            e.searches = set(e.searches);
            return;
        }
        let rank = u16::try_from(rank).unwrap_or(u16::MAX);
        let ranks = self
            .ranks
            .entry(user.to_owned())
            .or_default()
            .entry(day_of(day))
            .or_default();
        match ranks.iter_mut().find(|(r, _)| *r == rank) {
            Some((_, c)) => *c = set(*c),
            None => ranks.push((rank, n)),
        }
        let opened = ranks
            .iter()
            .map(|(_, c)| *c)
            .fold(0u32, u32::saturating_add);
        self.entry(day, user).opened = opened;
    }

    fn entry(&mut self, day: NaiveDate, user: &str) -> &mut DayUse {
        if !self.users.contains_key(user) {
            self.users.insert(user.to_owned(), Vec::new());
        }
        let days = self.users.get_mut(user).expect("inserted above");
        let d = day_of(day);
        // Days mostly arrive in order: the usual case is the last one or a new last one.
        let at = match days.last() {
            Some((last, _)) if *last < d => days.len(),
            _ => days.partition_point(|(x, _)| *x < d),
        };
        if days.get(at).is_none_or(|(x, _)| *x != d) {
            days.insert(at, (d, DayUse::default()));
        }
        &mut days[at].1
    }

    fn days<'a>(&'a self, user: &str, from: Day, to: Day) -> &'a [(Day, DayUse)] {
        let Some(days) = self.users.get(user) else {
            return &[];
        };
        let a = days.partition_point(|(d, _)| *d < from);
        let b = days.partition_point(|(d, _)| *d <= to);
        &days[a..b.max(a)]
    }

    /// Each member's days, looked up once: a summary asks several questions of the same
    /// engineers, and finding a user is most of the cost of each.
    pub fn rows<'a>(&'a self, members: &[String]) -> Vec<&'a [(Day, DayUse)]> {
        members
            .iter()
            .map(|u| self.users.get(u.as_str()).map_or(&[][..], Vec::as_slice))
            .collect()
    }

    /// How many of `members` were active in `[from, to]` (with a feature in `mask`, if given).
    pub fn active(&self, members: &[String], from: Day, to: Day, mask: Option<u64>) -> usize {
        active_in(&self.rows(members), from, to, mask)
    }

    /// Per feature bit, how many of `members` used it in `[from, to]`.
    pub fn feature_users(&self, members: &[String], from: Day, to: Day) -> Vec<usize> {
        self.feature_users_in(&self.rows(members), from, to)
    }

    /// [`Activity::feature_users`] over rows already looked up.
    pub fn feature_users_in(&self, rows: &[&[(Day, DayUse)]], from: Day, to: Day) -> Vec<usize> {
        let mut out = vec![0; self.features.len()];
        for days in rows {
            let start = days.partition_point(|(d, _)| *d < from);
            let used = days[start..]
                .iter()
                .take_while(|(d, _)| *d <= to)
                .fold(0u64, |m, (_, d)| m | d.features);
            for (b, n) in out.iter_mut().enumerate() {
                if used & (1 << b) != 0 {
                    *n += 1;
                }
            }
        }
        out
    }

    /// Daily, weekly and monthly (28-day) active counts for each day of `[from, to]`: each
    /// active day covers itself, the 6 days after it and the 27 days after it.
    pub fn series(&self, members: &[String], from: Day, to: Day) -> Vec<[usize; 3]> {
        let len = (to - from + 1).max(0) as usize;
        let mut diff = vec![[0i64; 3]; len + 1];
        for u in members {
            for (i, width) in [1, 7, 28].into_iter().enumerate() {
                // Merge each user's covered spans so a user counts once per day.
                let mut span: Option<(Day, Day)> = None;
                let flush = |s: (Day, Day), diff: &mut Vec<[i64; 3]>| {
                    let a = (s.0.max(from) - from) as usize;
                    let b = (s.1.min(to) - from + 1) as usize;
                    if s.1 >= from && s.0 <= to && a < b {
                        diff[a][i] += 1;
                        diff[b][i] -= 1;
                    }
                };
                for (d, _) in self.days(u, from - width + 1, to) {
                    let s = (*d, d + width - 1);
                    span = match span {
                        Some(p) if s.0 <= p.1 + 1 => Some((p.0, p.1.max(s.1))),
                        Some(p) => {
                            flush(p, &mut diff);
                            Some(s)
                        }
                        None => Some(s),
                    };
                }
                if let Some(p) = span {
                    flush(p, &mut diff);
                }
            }
        }
        let mut run = [0i64; 3];
        diff.iter()
            .take(len)
            .map(|d| {
                for i in 0..3 {
                    run[i] += d[i];
                }
                run.map(|n| n.max(0) as usize)
            })
            .collect()
    }

    /// The first day `user` was active among the days held in memory.
    pub fn first_day(&self, user: &str) -> Option<Day> {
        self.users.get(user)?.first().map(|(d, _)| *d)
    }

    /// Searches run and results opened by `members` in `[from, to]`.
    pub fn search(&self, members: &[String], from: Day, to: Day) -> SearchCounts {
        let mut c = SearchCounts::default();
        for u in members {
            for (day, d) in self.days(u, from, to) {
                c.searches += u64::from(d.searches);
                // A result opened counts one search as successful; more opened results than
                // searches that day (several results from one search) still count each search
                // at most once.
                c.opened += u64::from(d.opened.min(d.searches));
                if d.opened > 0 {
                    let ranks = self.ranks.get(u.as_str()).and_then(|days| days.get(day));
                    for (r, n) in ranks.into_iter().flatten() {
                        *c.ranks.entry(*r).or_default() += u64::from(*n);
                    }
                }
            }
        }
        c
    }
}

/// [`Activity::active`] over rows already looked up.
pub fn active_in(rows: &[&[(Day, DayUse)]], from: Day, to: Day, mask: Option<u64>) -> usize {
    rows.iter()
        .filter(|days| {
            // Only the days from `from` on are looked at, and only until one counts.
            let start = days.partition_point(|(d, _)| *d < from);
            days[start..]
                .iter()
                .take_while(|(d, _)| *d <= to)
                .any(|(_, d)| mask.is_none_or(|m| d.features & m != 0))
        })
        .count()
}

impl SearchCounts {
    /// The rank half of opened results were at or above.
    pub fn median_rank(&self) -> Option<u16> {
        let total: u64 = self.ranks.values().sum();
        let mut seen = 0;
        for (r, n) in &self.ranks {
            seen += n;
            if seen * 2 >= total {
                return Some(*r);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
    }

    #[test]
    fn series_counts_each_user_once_per_window() {
        let mut a = Activity::default();
        a.used(d(1), "u1", "catalog");
        a.used(d(1), "u1", "docs");
        a.used(d(3), "u1", "catalog");
        a.used(d(10), "u2", "catalog");
        let members = vec!["u1".to_owned(), "u2".to_owned(), "u3".to_owned()];
        let s = a.series(&members, day_of(d(1)), day_of(d(12)));
        assert_eq!(s[0], [1, 1, 1]); // 1st: u1
        assert_eq!(s[1], [0, 1, 1]); // 2nd: u1 within the week
        assert_eq!(s[2], [1, 1, 1]);
        assert_eq!(s[9], [1, 1, 2]); // 10th: u2 that day; u1's week ended on the 9th
        assert_eq!(s[8], [0, 1, 1]);
        assert_eq!(s[11], [0, 1, 2]);
        // The same figures from the direct counts.
        for (i, row) in s.iter().enumerate() {
            let day = day_of(d(1)) + i as i32;
            assert_eq!(row[0], a.active(&members, day, day, None));
            assert_eq!(row[1], a.active(&members, day - 6, day, None));
            assert_eq!(row[2], a.active(&members, day - 27, day, None));
        }
        let users = a.feature_users(&members, day_of(d(1)), day_of(d(12)));
        assert_eq!(users, vec![2, 1]);
    }

    #[test]
    fn days_stay_sorted_and_unique_whatever_order_they_arrive_in() {
        let mut a = Activity::default();
        for n in [5, 1, 3, 3, 9, 1] {
            a.used(d(n), "u1", "catalog");
        }
        a.used(d(3), "u1", "docs");
        let days: Vec<(Day, u64)> = a.users["u1"]
            .iter()
            .map(|(d, u)| (*d, u.features))
            .collect();
        assert_eq!(
            days,
            vec![
                (day_of(d(1)), 1),
                (day_of(d(3)), 3),
                (day_of(d(5)), 1),
                (day_of(d(9)), 1)
            ]
        );
        assert_eq!(a.first_day("u1"), Some(day_of(d(1))));
        assert_eq!(a.days("u1", day_of(d(2)), day_of(d(5))).len(), 2);
        assert!(a.days("u1", day_of(d(6)), day_of(d(8))).is_empty());
    }

    #[test]
    fn search_success_counts_a_search_once() {
        let mut a = Activity::default();
        a.searched(d(1), "u1", 0, 4, false);
        a.searched(d(1), "u1", 1, 2, false);
        a.searched(d(1), "u1", 3, 1, false);
        a.searched(d(2), "u1", 0, 1, false);
        a.searched(d(2), "u1", 2, 3, false);
        let c = a.search(&["u1".to_owned()], day_of(d(1)), day_of(d(2)));
        assert_eq!((c.searches, c.opened), (5, 4));
        assert_eq!(c.median_rank(), Some(2));
        a.searched(d(2), "u1", 0, 7, true);
        assert_eq!(
            a.search(&["u1".to_owned()], day_of(d(2)), day_of(d(2)))
                .searches,
            7
        );
    }
}
