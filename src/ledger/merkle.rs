//! RFC 9162 section 2.1 Merkle tree: hashes, roots, inclusion and consistency
//! proofs, and their verification.
//!
//! Nodes are addressed as perfect subtrees `(level, index)`: level 0 holds the
//! leaf hashes, and node `(l, i)` covers leaves `[i·2^l, (i+1)·2^l)`. Only
//! perfect subtrees are ever stored; every other range hash is derived by
//! splitting at the largest power of two, as the RFC defines MTH.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// SHA-256 of the empty string: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Leaf hash: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

/// Interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Why a proof could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {first} is larger than tree size {second}")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the proof does not verify")]
    Invalid,
    #[error("node ({level}, {index}) is missing from the store")]
    MissingNode { level: u32, index: u64 },
    #[error("node store: {0}")]
    Store(String),
}

/// Where perfect-subtree hashes come from (memory, the database, a batch).
pub trait NodeSource {
    /// Hash of the perfect subtree at `level`, `index`.
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, ProofError>;
}

fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start:end]) for any non-empty range, from perfect subtrees.
pub fn range_hash(source: &mut dyn NodeSource, start: u64, end: u64) -> Result<Hash, ProofError> {
    let size = end - start;
    debug_assert!(size > 0);
    if size.is_power_of_two() && start.is_multiple_of(size) {
        let level = size.trailing_zeros();
        return source.perfect(level, start >> level);
    }
    let split = largest_power_of_two_below(size);
    let left = range_hash(source, start, start + split)?;
    let right = range_hash(source, start + split, end)?;
    Ok(node_hash(&left, &right))
}

/// Root of the tree of `size` leaves.
pub fn root(source: &mut dyn NodeSource, size: u64) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(source, 0, size)
}

/// RFC 9162 2.1.3.1 inclusion proof (audit path) of leaf `index` in a tree of `size`.
pub fn inclusion_proof(
    source: &mut dyn NodeSource,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::new();
    path(source, index, 0, size, &mut proof)?;
    Ok(proof)
}

// PATH(m, D[start:end]) with m relative to start; appends bottom-up.
fn path(
    source: &mut dyn NodeSource,
    m: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    let size = end - start;
    if size == 1 {
        return Ok(());
    }
    let k = largest_power_of_two_below(size);
    if m < k {
        path(source, m, start, start + k, proof)?;
        proof.push(range_hash(source, start + k, end)?);
    } else {
        path(source, m - k, start + k, end, proof)?;
        proof.push(range_hash(source, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 2.1.4.1 consistency proof between tree sizes `first` ≤ `second`.
pub fn consistency_proof(
    source: &mut dyn NodeSource,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    let mut proof = Vec::new();
    if first == 0 || first == second {
        return Ok(proof);
    }
    subproof(source, first, 0, second, true, &mut proof)?;
    Ok(proof)
}

fn subproof(
    source: &mut dyn NodeSource,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    let size = end - start;
    if m == size {
        if !whole {
            proof.push(range_hash(source, start, end)?);
        }
        return Ok(());
    }
    let k = largest_power_of_two_below(size);
    if m <= k {
        subproof(source, m, start, start + k, whole, proof)?;
        proof.push(range_hash(source, start + k, end)?);
    } else {
        subproof(source, m - k, start + k, end, false, proof)?;
        proof.push(range_hash(source, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 2.1.3.2: checks that `leaf` is leaf `index` of the tree with `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::Invalid);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

/// RFC 9162 2.1.4.2: checks that the tree (`second`, `second_root`) extends
/// the tree (`first`, `first_root`).
pub fn verify_consistency(
    first: u64,
    second: u64,
    proof: &[Hash],
    first_root: &Hash,
    second_root: &Hash,
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == second {
        return if proof.is_empty() && first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::Invalid)
        };
    }
    if first == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::Invalid)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((head, rest)) = path.split_first() else {
        return Err(ProofError::Invalid);
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::Invalid);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if fr == *first_root && sr == *second_root && sn == 0 {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

/// The right edge of a growing tree: one perfect subtree per set bit of the
/// size, largest first. Appending a leaf returns every perfect node it completes,
/// so a writer can store them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

/// A perfect subtree completed by an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedNode {
    pub level: u32,
    pub index: u64,
    pub hash: Hash,
}

impl Frontier {
    /// Rebuilds the frontier of a tree of `size` from its perfect subtrees.
    pub fn load(source: &mut dyn NodeSource, size: u64) -> Result<Self, ProofError> {
        let mut nodes = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                nodes.push((level, source.perfect(level, start >> level)?));
                start += 1u64 << level;
            }
        }
        Ok(Frontier { size, nodes })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect subtrees of the right edge as (level, index, hash).
    pub fn perfect_nodes(&self) -> impl Iterator<Item = CompletedNode> + '_ {
        let mut start = 0u64;
        self.nodes.iter().map(move |(level, hash)| {
            let node = CompletedNode {
                level: *level,
                index: start >> level,
                hash: *hash,
            };
            start += 1u64 << level;
            node
        })
    }

    /// Appends a leaf hash; calls `completed` for the leaf and every perfect
    /// node it completes.
    pub fn append(&mut self, leaf: Hash, mut completed: impl FnMut(CompletedNode)) {
        let index = self.size;
        completed(CompletedNode {
            level: 0,
            index,
            hash: leaf,
        });
        let mut hash = leaf;
        let mut level = 0u32;
        while let Some(&(top_level, top_hash)) = self.nodes.last() {
            if top_level != level {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&top_hash, &hash);
            level += 1;
            completed(CompletedNode {
                level,
                index: index >> level,
                hash,
            });
        }
        self.nodes.push((level, hash));
        self.size += 1;
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        match nodes.next() {
            None => empty_root(),
            Some((_, first)) => nodes.fold(*first, |right, (_, left)| node_hash(left, &right)),
        }
    }
}

/// Perfect-subtree hashes held in memory (tests, export verification, batches).
#[derive(Debug, Default, Clone)]
pub struct MemoryNodes {
    nodes: std::collections::HashMap<(u32, u64), Hash>,
}

impl MemoryNodes {
    /// Stores one perfect node.
    pub fn insert(&mut self, node: CompletedNode) {
        self.nodes.insert((node.level, node.index), node.hash);
    }

    /// Builds the full node set of a list of leaf hashes.
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut memory = MemoryNodes::default();
        let mut frontier = Frontier::default();
        for leaf in leaves {
            frontier.append(*leaf, |node| memory.insert(node));
        }
        memory
    }
}

impl NodeSource for MemoryNodes {
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.nodes
            .get(&(level, index))
            .copied()
            .ok_or(ProofError::MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The RFC 6962 test vectors used by certificate-transparency and
    // transparency-dev/merkle.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn h(text: &str) -> Hash {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    fn leaves() -> Vec<Hash> {
        LEAVES
            .iter()
            .map(|l| leaf_hash(&hex::decode(l).unwrap()))
            .collect()
    }

    #[test]
    fn empty_tree_root() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Frontier::default().root(), empty_root());
    }

    #[test]
    fn roots_match_rfc6962_vectors() {
        let mut memory = MemoryNodes::from_leaves(&leaves());
        let mut frontier = Frontier::default();
        for (size, leaf) in leaves().into_iter().enumerate() {
            frontier.append(leaf, |_| {});
            assert_eq!(
                hex::encode(frontier.root()),
                ROOTS[size],
                "frontier root of size {}",
                size + 1
            );
            assert_eq!(
                hex::encode(root(&mut memory, size as u64 + 1).unwrap()),
                ROOTS[size]
            );
        }
    }

    #[test]
    fn inclusion_proofs_match_rfc6962_vectors() {
        let mut memory = MemoryNodes::from_leaves(&leaves());
        let cases: [(u64, u64, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, expected) in cases {
            let proof = inclusion_proof(&mut memory, index, size).unwrap();
            let proof_hex: Vec<String> = proof.iter().map(hex::encode).collect();
            assert_eq!(proof_hex, expected, "proof of {index} in {size}");
            let root = h(ROOTS[size as usize - 1]);
            verify_inclusion(&leaves()[index as usize], index, size, &proof, &root).unwrap();
        }
    }

    #[test]
    fn consistency_proofs_match_rfc6962_vectors() {
        let mut memory = MemoryNodes::from_leaves(&leaves());
        let cases: [(u64, u64, &[&str]); 3] = [
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (first, second, expected) in cases {
            let proof = consistency_proof(&mut memory, first, second).unwrap();
            let proof_hex: Vec<String> = proof.iter().map(hex::encode).collect();
            assert_eq!(proof_hex, expected, "consistency {first} -> {second}");
            let (first_root, second_root) =
                (h(ROOTS[first as usize - 1]), h(ROOTS[second as usize - 1]));
            verify_consistency(first, second, &proof, &first_root, &second_root).unwrap();
            assert_eq!(
                verify_consistency(first, second, &proof, &second_root, &first_root),
                Err(ProofError::Invalid)
            );
        }
    }

    #[test]
    fn frontier_reloads_from_stored_nodes() {
        let mut memory = MemoryNodes::from_leaves(&leaves());
        for size in 0..=8u64 {
            let frontier = Frontier::load(&mut memory, size).unwrap();
            assert_eq!(frontier.root(), root(&mut memory, size).unwrap());
        }
    }

    proptest! {
        #[test]
        fn every_proof_verifies_and_a_wrong_one_does_not(size in 1u64..70, seed in any::<u64>()) {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&(seed ^ i).to_be_bytes())).collect();
            let mut memory = MemoryNodes::from_leaves(&leaves);
            let root_hash = root(&mut memory, size).unwrap();
            for index in 0..size {
                let proof = inclusion_proof(&mut memory, index, size).unwrap();
                prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &proof, &root_hash).is_ok());
                let other = leaves[((index + 1) % size) as usize];
                if size > 1 {
                    prop_assert!(verify_inclusion(&other, index, size, &proof, &root_hash).is_err());
                }
            }
            for first in 0..=size {
                let first_root = root(&mut memory, first).unwrap();
                let proof = consistency_proof(&mut memory, first, size).unwrap();
                prop_assert!(verify_consistency(first, size, &proof, &first_root, &root_hash).is_ok());
                if first > 0 && first < size {
                    let mut bad = proof.clone();
                    bad[0][0] ^= 1;
                    prop_assert!(verify_consistency(first, size, &bad, &first_root, &root_hash).is_err());
                }
            }
        }
    }
}
