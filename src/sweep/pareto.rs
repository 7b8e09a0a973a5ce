//! Pareto fronts: the configurations no other beats on both KV cache memory (less is better)
//! and a token rate (more is better), among points at the same context depth (a point at depth 0
//! needs little KV cache and is fast: comparing it with a 32K point says nothing).

use std::collections::BTreeMap;

/// One candidate: (KV bytes, tok/s).
pub type Candidate = (f64, f64);

/// Indices of the non-dominated candidates, in input order. A candidate is dominated when
/// another has no more KV memory and no lower rate, and is better in one of them. Equal
/// candidates do not dominate each other: both stay on the front.
pub fn front(candidates: &[Candidate]) -> Vec<usize> {
    // Sort by memory (then by rate, best first) and sweep: a candidate is on the front when its
    // rate beats every rate seen at strictly less memory, and ties the best rate at its own
    // memory.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        candidates[a]
            .0
            .total_cmp(&candidates[b].0)
            .then(candidates[b].1.total_cmp(&candidates[a].1))
    });
    let mut on_front = Vec::new();
    let mut best_below = f64::NEG_INFINITY;
    let mut i = 0;
    while i < order.len() {
        let memory = candidates[order[i]].0;
        let group: Vec<usize> =
            order[i..].iter().copied().take_while(|&j| candidates[j].0 == memory).collect();
        let best_here = candidates[group[0]].1;
        if best_here > best_below {
            on_front.extend(group.iter().copied().filter(|&j| candidates[j].1 == best_here));
        }
        best_below = best_below.max(best_here);
        i += group.len();
    }
    on_front.sort_unstable();
    on_front
}

/// Fronts within each depth: `items` are (depth, KV bytes, tok/s); returns the indices of
/// `items` on their depth's front.
pub fn fronts_by_depth(items: &[(u64, f64, f64)]) -> Vec<usize> {
    let mut by_depth: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        by_depth.entry(item.0).or_default().push(i);
    }
    let mut marked: Vec<usize> = by_depth
        .values()
        .flat_map(|members| {
            let candidates: Vec<Candidate> =
                members.iter().map(|&i| (items[i].1, items[i].2)).collect();
            front(&candidates).into_iter().map(|j| members[j]).collect::<Vec<_>>()
        })
        .collect();
    marked.sort_unstable();
    marked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_non_dominated() {
        let c = [
            (1.0, 10.0),
            (2.0, 20.0),
            (2.0, 15.0),
            (3.0, 20.0),
            (0.5, 5.0),
            (4.0, 30.0),
            (2.0, 20.0),
        ];
        // (2,15) loses to (2,20); (3,20) loses to (2,20); the two (2,20) tie and both stay.
        assert_eq!(front(&c), [0, 1, 4, 5, 6]);
        assert_eq!(front(&[]), Vec::<usize>::new());
        assert_eq!(fronts_by_depth(&[(0, 1.0, 10.0), (8, 2.0, 5.0), (0, 2.0, 9.0)]), [0, 1]);
    }
}
