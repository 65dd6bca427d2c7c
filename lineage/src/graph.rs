//! The graph model: nodes keyed by a stable id, edges from parent/input to child/output.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use petgraph::Direction;
use petgraph::algo::has_path_connecting;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Error, Result};

/// What a node stands for; each kind is drawn with its own shape and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A label (ulabel) in a label hierarchy; drawn as a box.
    Label,
    /// A transform (notebook, script, pipeline); drawn as a box.
    Transform,
    /// One run of a transform; drawn as a small box.
    Run,
    /// An artifact (file, folder, table); drawn as a rounded box.
    Artifact,
    /// A collection of artifacts; drawn as an ellipse.
    Collection,
}

/// One vertex of a [`Graph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Stable key, unique in the graph, e.g. `ulabel:12` or `artifact:Xy3…`.
    pub id: String,
    /// Text shown in the rendering; may contain any characters, including newlines.
    pub label: String,
    /// What the node stands for.
    pub kind: NodeKind,
    /// Whether this is the record the user asked about (drawn filled and bold).
    pub highlight: bool,
}

impl Node {
    /// A node that is not highlighted.
    ///
    /// ```
    /// use lamella_lineage::{Node, NodeKind};
    /// let n = Node::new("ulabel:1", "setosa", NodeKind::Label);
    /// assert!(!n.highlight);
    /// ```
    pub fn new(id: impl Into<String>, label: impl Into<String>, kind: NodeKind) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            kind,
            highlight: false,
        }
    }

    /// The same node, marked as the record the user asked about.
    #[must_use]
    pub fn highlighted(mut self) -> Self {
        self.highlight = true;
        self
    }
}

/// Position of a node in a [`Graph`]: its insertion index (`n0`, `n1`, … in DOT and Mermaid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(usize);

impl NodeId {
    /// The insertion index of the node, starting at 0.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A directed acyclic graph of [`Node`]s for label/transform hierarchies and provenance.
///
/// Edges point from parent to child and from input to output (transform → run → artifact).
/// Nodes and edges keep their insertion order, so every rendering is reproducible.
/// The graph never contains a cycle: [`Graph::add_edge`] refuses edges that would close one.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    inner: DiGraph<Node, ()>,
    by_id: HashMap<String, NodeIndex>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `node` unless a node with the same `id` exists, and returns its [`NodeId`].
    ///
    /// An existing node keeps its label and kind; it becomes highlighted if `node` is.
    pub fn add_node(&mut self, node: Node) -> NodeId {
        if let Some(&ix) = self.by_id.get(&node.id) {
            self.inner[ix].highlight |= node.highlight;
            return NodeId(ix.index());
        }
        let id = node.id.clone();
        let ix = self.inner.add_node(node);
        self.by_id.insert(id, ix);
        NodeId(ix.index())
    }

    /// Adds the edge `from → to` (parent → child, input → output) between existing nodes.
    ///
    /// Returns `Ok(true)` if the edge is new, `Ok(false)` if it was already there.
    /// Fails with [`Error::UnknownNode`] if an end is missing and with [`Error::Cycle`]
    /// if the edge would close a cycle.
    pub fn add_edge(&mut self, from: &str, to: &str) -> Result<bool> {
        let a = self.lookup(from)?;
        let b = self.lookup(to)?;
        if self.inner.contains_edge(a, b) {
            return Ok(false);
        }
        if a == b || has_path_connecting(&self.inner, b, a, None) {
            return Err(Error::Cycle {
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        self.inner.add_edge(a, b, ());
        Ok(true)
    }

    /// Whether adding `from → to` would close a cycle, i.e. `from` is `to` or a descendant of it.
    ///
    /// Ids not in the graph cannot close a cycle (except `from == to`).
    pub fn would_create_cycle(&self, from: &str, to: &str) -> bool {
        if from == to {
            return true;
        }
        match (self.by_id.get(from), self.by_id.get(to)) {
            (Some(&a), Some(&b)) => has_path_connecting(&self.inner, b, a, None),
            _ => false,
        }
    }

    /// The node with stable key `id`, if any.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.by_id.get(id).map(|&ix| &self.inner[ix])
    }

    /// Whether a node with stable key `id` is in the graph.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// All nodes in insertion order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Node> + '_ {
        self.inner.raw_nodes().iter().map(|n| &n.weight)
    }

    /// All edges as `(from, to)` in insertion order.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = (&Node, &Node)> + '_ {
        self.edge_indices().map(|(a, b)| {
            (
                &self.inner[NodeIndex::new(a)],
                &self.inner[NodeIndex::new(b)],
            )
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.inner.node_count()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.inner.node_count() == 0
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.inner.edge_count()
    }

    /// All nodes, parents before children; ties are broken by insertion order.
    pub fn topological_order(&self) -> Vec<&Node> {
        let mut indegree: Vec<usize> = self
            .inner
            .node_indices()
            .map(|ix| {
                self.inner
                    .neighbors_directed(ix, Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BinaryHeap<Reverse<usize>> = indegree
            .iter()
            .enumerate()
            .filter(|&(_, &d)| d == 0)
            .map(|(i, _)| Reverse(i))
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(Reverse(i)) = ready.pop() {
            let ix = NodeIndex::new(i);
            order.push(&self.inner[ix]);
            for next in self.inner.neighbors_directed(ix, Direction::Outgoing) {
                indegree[next.index()] -= 1;
                if indegree[next.index()] == 0 {
                    ready.push(Reverse(next.index()));
                }
            }
        }
        debug_assert_eq!(
            order.len(),
            self.len(),
            "the graph is acyclic by construction"
        );
        order
    }

    /// Parents, grandparents, … of `id` up to `max_distance` edges away (`None`: all).
    ///
    /// Ordered by distance, then insertion order; `id` itself is not included.
    pub fn ancestors(&self, id: &str, max_distance: Option<usize>) -> Result<Vec<&Node>> {
        self.reach(id, max_distance, Direction::Incoming)
    }

    /// Children, grandchildren, … of `id` up to `max_distance` edges away (`None`: all).
    ///
    /// Ordered by distance, then insertion order; `id` itself is not included.
    pub fn descendants(&self, id: &str, max_distance: Option<usize>) -> Result<Vec<&Node>> {
        self.reach(id, max_distance, Direction::Outgoing)
    }

    /// The subgraph induced by `ids` (unknown ids are skipped), in this graph's order.
    pub fn subgraph<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Graph {
        let mut keep = vec![false; self.len()];
        for id in ids {
            if let Some(ix) = self.by_id.get(id) {
                keep[ix.index()] = true;
            }
        }
        let mut out = Graph::new();
        for node in self
            .nodes()
            .enumerate()
            .filter(|(i, _)| keep[*i])
            .map(|(_, n)| n)
        {
            out.add_node(node.clone());
        }
        for (a, b) in self.edge_indices().filter(|&(a, b)| keep[a] && keep[b]) {
            let (from, to) = (
                &self.inner[NodeIndex::new(a)].id,
                &self.inner[NodeIndex::new(b)].id,
            );
            // The source graph is acyclic and both ends exist, so this cannot fail.
            let _ = out.add_edge(from, to);
        }
        out
    }

    /// Edges as `(from index, to index)` in insertion order; used by the renderers.
    pub(crate) fn edge_indices(&self) -> impl ExactSizeIterator<Item = (usize, usize)> + '_ {
        self.inner
            .raw_edges()
            .iter()
            .map(|e| (e.source().index(), e.target().index()))
    }

    fn lookup(&self, id: &str) -> Result<NodeIndex> {
        self.by_id
            .get(id)
            .copied()
            .ok_or_else(|| Error::UnknownNode { id: id.to_owned() })
    }

    fn reach(&self, id: &str, max_distance: Option<usize>, dir: Direction) -> Result<Vec<&Node>> {
        let start = self.lookup(id)?;
        let limit = max_distance.unwrap_or(usize::MAX);
        let mut distance: Vec<Option<usize>> = vec![None; self.len()];
        distance[start.index()] = Some(0);
        let mut queue = VecDeque::from([start]);
        while let Some(ix) = queue.pop_front() {
            let d = distance[ix.index()].unwrap_or(0);
            if d >= limit {
                continue;
            }
            for next in self.inner.neighbors_directed(ix, dir) {
                if distance[next.index()].is_none() {
                    distance[next.index()] = Some(d + 1);
                    queue.push_back(next);
                }
            }
        }
        let mut found: Vec<(usize, usize)> = distance
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.filter(|&d| d > 0).map(|d| (d, i)))
            .collect();
        found.sort_unstable();
        Ok(found
            .into_iter()
            .map(|(_, i)| &self.inner[NodeIndex::new(i)])
            .collect())
    }
}

impl std::ops::Index<NodeId> for Graph {
    type Output = Node;

    fn index(&self, id: NodeId) -> &Node {
        &self.inner[NodeIndex::new(id.0)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> Vec<&'a str> {
        nodes.into_iter().map(|n| n.id.as_str()).collect()
    }

    /// a → b → c → d, a → e, plus an unconnected f.
    fn chain() -> Graph {
        let mut g = Graph::new();
        for id in ["a", "b", "c", "d", "e", "f"] {
            g.add_node(Node::new(id, id.to_uppercase(), NodeKind::Label));
        }
        for (from, to) in [("a", "b"), ("b", "c"), ("c", "d"), ("a", "e")] {
            assert!(g.add_edge(from, to).unwrap());
        }
        g
    }

    #[test]
    fn add_node_is_idempotent_by_id_and_ors_highlight() {
        let mut g = Graph::new();
        let first = g.add_node(Node::new("x", "first", NodeKind::Label));
        let again = g.add_node(Node::new("x", "second", NodeKind::Artifact).highlighted());
        assert_eq!(first, again);
        assert_eq!(first.index(), 0);
        assert_eq!(g.len(), 1);
        assert_eq!(g[first].label, "first");
        assert_eq!(g[first].kind, NodeKind::Label);
        assert!(g[first].highlight);
    }

    #[test]
    fn add_edge_is_idempotent() {
        let mut g = chain();
        assert!(!g.add_edge("a", "b").unwrap());
        assert_eq!(g.edge_count(), 4);
    }

    #[test]
    fn add_edge_names_unknown_node() {
        let mut g = chain();
        let err = g.add_edge("a", "zz").unwrap_err();
        assert_eq!(err.to_string(), "no node 'zz' in the graph");
    }

    #[test]
    fn cycles_are_detected_and_refused() {
        let mut g = chain();
        assert!(g.would_create_cycle("d", "a"));
        assert!(g.would_create_cycle("c", "b"));
        assert!(g.would_create_cycle("b", "b"));
        assert!(g.would_create_cycle("new", "new"));
        assert!(!g.would_create_cycle("a", "d"), "a shortcut is no cycle");
        assert!(!g.would_create_cycle("e", "d"));
        assert!(!g.would_create_cycle("f", "a"));
        assert!(!g.would_create_cycle("a", "unknown"));

        let err = g.add_edge("d", "a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "edge 'd' -> 'a' would create a cycle: 'a' is already an ancestor of 'd'"
        );
        assert!(matches!(g.add_edge("b", "b"), Err(Error::Cycle { .. })));
        assert_eq!(g.edge_count(), 4, "refused edges are not added");
        assert!(g.add_edge("a", "d").unwrap());
    }

    #[test]
    fn topological_order_puts_parents_first_and_keeps_insertion_order() {
        let mut g = Graph::new();
        for id in ["child", "other", "parent"] {
            g.add_node(Node::new(id, id, NodeKind::Label));
        }
        g.add_edge("parent", "child").unwrap();
        assert_eq!(ids(g.topological_order()), ["other", "parent", "child"]);
        assert_eq!(
            ids(chain().topological_order()),
            ["a", "b", "c", "d", "e", "f"]
        );
    }

    #[test]
    fn ancestors_and_descendants_respect_distance() {
        let g = chain();
        assert_eq!(ids(g.descendants("a", None).unwrap()), ["b", "e", "c", "d"]);
        assert_eq!(ids(g.descendants("a", Some(1)).unwrap()), ["b", "e"]);
        assert_eq!(ids(g.descendants("a", Some(2)).unwrap()), ["b", "e", "c"]);
        assert!(g.descendants("a", Some(0)).unwrap().is_empty());
        assert_eq!(ids(g.ancestors("d", None).unwrap()), ["c", "b", "a"]);
        assert_eq!(ids(g.ancestors("d", Some(2)).unwrap()), ["c", "b"]);
        assert!(g.ancestors("f", None).unwrap().is_empty());
        assert!(matches!(
            g.ancestors("nope", None),
            Err(Error::UnknownNode { id }) if id == "nope"
        ));
    }

    #[test]
    fn subgraph_keeps_order_and_induced_edges() {
        let g = chain();
        let sub = g.subgraph(["d", "b", "c", "missing"]);
        assert_eq!(ids(sub.nodes()), ["b", "c", "d"]);
        let edges: Vec<_> = sub
            .edges()
            .map(|(a, b)| (a.id.as_str(), b.id.as_str()))
            .collect();
        assert_eq!(edges, [("b", "c"), ("c", "d")]);
    }

    #[test]
    fn edges_come_in_insertion_order() {
        let g = chain();
        let edges: Vec<_> = g
            .edges()
            .map(|(a, b)| (a.id.as_str(), b.id.as_str()))
            .collect();
        assert_eq!(edges, [("a", "b"), ("b", "c"), ("c", "d"), ("a", "e")]);
    }
}
