//! The index of a streamed bundle's files ([`super::Bundle::streamed`]):
//! their contents are on disk, and all that stays in memory until the
//! manifest is written is each file's path, digest and tenants, held small.
//! At 10,000 tenants that is some 212,000 files: as a map of paths to
//! [`super::BundleFile`]s (half-full B-tree nodes, every file's tenants as
//! strings) it was some 60 MB.
//!
//! A file is a [`Record`] in a [`Chunked`] list, in the order added; its
//! tenants are an id of a set of tenant names spelt once ([`Names`],
//! shared by every part of one lowering). [`Written::settle`] puts the
//! records in path order (an index, not a move) and merges a secret file
//! written twice with one value, as [`super::Bundle`]'s map does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Items in blocks of a fixed size: appending never moves what is there
/// (a vector of 270,000 objects doubled near the end of a compile held both
/// copies for a moment, 50 MB).
#[derive(Debug, Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

const CHUNK: usize = 4096;

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(item),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(item);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }

    pub fn get_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }

    /// Moves every item of `other` after these.
    pub fn append(&mut self, other: Chunked<T>) {
        for c in other.chunks {
            if c.len() == CHUNK && self.chunks.last().is_none_or(|l| l.len() == CHUNK) {
                self.len += c.len();
                self.chunks.push(c);
                continue;
            }
            for item in c {
                self.push(item);
            }
        }
    }
}

/// The id of the set `ids` in `sets`, added when it is new: each set is
/// held once, the index and the inventory's objects both naming their
/// tenants by such an id.
pub(crate) fn intern_set(
    sets: &mut Vec<Box<[u32]>>,
    known: &mut HashMap<Box<[u32]>, u32>,
    ids: Vec<u32>,
) -> u32 {
    if let Some(&s) = known.get(ids.as_slice()) {
        return s;
    }
    let s = sets.len() as u32;
    let ids = ids.into_boxed_slice();
    sets.push(ids.clone());
    known.insert(ids, s);
    s
}

/// Tenant names spelt once, and sets of them, each set by an id.
#[derive(Debug, Default)]
pub(crate) struct Names {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    /// Each set's names' ids, in the names' order.
    sets: Vec<Box<[u32]>>,
    set_ids: HashMap<Box<[u32]>, u32>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), i);
        i
    }

    /// The set of `names`, given in their order.
    pub fn set<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> u32 {
        let ids: Vec<u32> = names.into_iter().map(|n| self.id(n)).collect();
        self.set_of(ids)
    }

    fn set_of(&mut self, ids: Vec<u32>) -> u32 {
        intern_set(&mut self.sets, &mut self.set_ids, ids)
    }

    /// The names of two sets, in order, each once.
    fn union(&mut self, a: u32, b: u32) -> u32 {
        if a == b {
            return a;
        }
        let mut ids: Vec<u32> = self.sets[a as usize].to_vec();
        ids.extend(self.sets[b as usize].iter());
        ids.sort_by(|x, y| self.names[*x as usize].cmp(&self.names[*y as usize]));
        ids.dedup();
        self.set_of(ids)
    }

    /// The names of a set, in order.
    pub fn names(&self, set: u32) -> impl ExactSizeIterator<Item = &str> {
        self.sets[set as usize]
            .iter()
            .map(|&i| &*self.names[i as usize])
    }
}

/// A file of a streamed bundle.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub path: Box<str>,
    pub sha256: [u8; 32],
    /// A set of [`Names`].
    pub tenants: u32,
    pub secret: bool,
}

/// The files of a streamed bundle.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    pub names: Arc<Mutex<Names>>,
    records: Chunked<Record>,
    /// The records in path order, each path once, when settled.
    order: Vec<u32>,
    settled: bool,
}

impl Written {
    /// An empty index sharing these names (a part of one lowering).
    pub fn part(&self) -> Written {
        Written {
            names: self.names.clone(),
            ..Written::default()
        }
    }

    pub fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&mut self, path: String, sha256: [u8; 32], tenants: u32, secret: bool) {
        self.records.push(Record {
            path: path.into_boxed_str(),
            sha256,
            tenants,
            secret,
        });
        self.settled = false;
    }

    /// Moves another part's files after these.
    pub fn absorb(&mut self, other: Written) {
        if other.records.is_empty() {
            return;
        }
        self.records.append(other.records);
        self.settled = false;
    }

    /// Puts the records in path order; a path added twice is one secret
    /// file written twice with one value (its tenants merged), or a bug in
    /// lowering.
    pub fn settle(&mut self) -> Result<(), String> {
        if self.settled {
            return Ok(());
        }
        let records = &self.records;
        let mut order: Vec<u32> = (0..records.len() as u32).collect();
        // Of one path added twice, the first stays first.
        order.sort_unstable_by(|&a, &b| {
            (&records.get(a as usize).path, a).cmp(&(&records.get(b as usize).path, b))
        });
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        let mut twice = None;
        let records = &mut self.records;
        order.dedup_by(|later, first| {
            let (l, f) = (records.get(*later as usize), records.get(*first as usize));
            if l.path != f.path {
                return false;
            }
            if !(l.secret && f.secret && l.sha256 == f.sha256) {
                twice.get_or_insert_with(|| format!("two outputs would be written to {}", l.path));
                return true;
            }
            let union = names.union(f.tenants, l.tenants);
            records.get_mut(*first as usize).tenants = union;
            true
        });
        if let Some(e) = twice {
            return Err(e);
        }
        self.order = order;
        self.settled = true;
        Ok(())
    }

    /// Adds a file after the others were settled (the manifest itself),
    /// keeping them settled.
    pub fn add_settled(
        &mut self,
        path: String,
        sha256: [u8; 32],
        tenants: u32,
    ) -> Result<(), String> {
        self.settle()?;
        let at = match self.find(&path) {
            Ok(_) => return Err(format!("two outputs would be written to {path}")),
            Err(at) => at,
        };
        self.add(path, sha256, tenants, false);
        self.order.insert(at, self.records.len() as u32 - 1);
        self.settled = true;
        Ok(())
    }

    fn find(&self, path: &str) -> Result<usize, usize> {
        self.order
            .binary_search_by(|&i| (*self.records.get(i as usize).path).cmp(path))
    }

    /// The record of `path`, once settled.
    pub fn get(&self, path: &str) -> Option<&Record> {
        debug_assert!(self.settled || self.records.is_empty());
        let at = self.find(path).ok()?;
        Some(self.records.get(self.order[at] as usize))
    }

    /// The records in path order, once settled.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.order.iter().map(|&i| self.records.get(i as usize))
    }

    /// How many files, each path once when settled.
    pub fn len(&self) -> usize {
        if self.settled {
            self.order.len()
        } else {
            self.records.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_order_across_appends() {
        let mut a = Chunked::default();
        let mut b = Chunked::default();
        for i in 0..CHUNK + 10 {
            a.push(i);
        }
        for i in 0..2 * CHUNK {
            b.push(CHUNK + 10 + i);
        }
        a.append(b);
        assert_eq!(a.len(), 3 * CHUNK + 10);
        assert!(a.iter().copied().eq(0..3 * CHUNK + 10));
        assert_eq!(*a.get(CHUNK + 11), CHUNK + 11);
    }

    #[test]
    fn settled_in_path_order_with_secrets_merged() {
        let mut w = Written::default();
        let (t1, t2, both) = {
            let mut n = w.names();
            (n.set(["t1"]), n.set(["t2"]), n.set(["t1", "t2"]))
        };
        let mut part = w.part();
        w.add("b".into(), [1; 32], t2, true);
        w.add("c".into(), [2; 32], t1, false);
        part.add("a".into(), [3; 32], t1, false);
        part.add("b".into(), [1; 32], t1, true);
        w.absorb(part);
        w.settle().expect("one value");
        let paths: Vec<&str> = w.iter().map(|r| &*r.path).collect();
        assert_eq!(paths, ["a", "b", "c"]);
        assert_eq!(w.get("b").map(|r| r.tenants), Some(both));
        assert_eq!(w.names().names(both).collect::<Vec<_>>(), ["t1", "t2"]);
        assert_eq!(w.len(), 3);
        w.add_settled("ab".into(), [4; 32], t1).expect("new");
        assert_eq!(
            w.iter().map(|r| &*r.path).collect::<Vec<_>>(),
            ["a", "ab", "b", "c"]
        );
        assert!(w.add_settled("ab".into(), [4; 32], t1).is_err());
        // Two values of one secret file, or a file written twice: a bug.
        w.add("b".into(), [9; 32], t1, true);
        assert!(w.settle().is_err());
        let mut w = Written::default();
        w.add("x".into(), [1; 32], 0, false);
        w.add("x".into(), [1; 32], 0, false);
        assert!(w.settle().is_err());
    }
}
