//! A hierarchy as indented text: what a picture of the graph shows, for a terminal.

use std::collections::{HashMap, HashSet};

use crate::Graph;

/// The hierarchy as an indented tree, roots first: what `view_parents` draws as a picture.
/// The label asked about is marked with `*`; a label with several parents appears under each.
pub fn tree_lines(graph: &Graph) -> Vec<String> {
    struct Tree {
        labels: HashMap<String, String>,
        children: HashMap<String, Vec<String>>,
        lines: Vec<String>,
    }
    impl Tree {
        fn walk(&mut self, id: &str, prefix: &str, last: bool, root: bool) {
            let label = self.labels.get(id).cloned().unwrap_or_default();
            let (line, next) = if root {
                (label, String::new())
            } else if last {
                (format!("{prefix}└── {label}"), format!("{prefix}    "))
            } else {
                (format!("{prefix}├── {label}"), format!("{prefix}│   "))
            };
            self.lines.push(line);
            let kids = self.children.get(id).cloned().unwrap_or_default();
            for (i, k) in kids.iter().enumerate() {
                self.walk(k, &next, i + 1 == kids.len(), false);
            }
        }
    }
    let mut tree = Tree {
        labels: graph
            .nodes()
            .map(|n| {
                let mark = if n.highlight { " *" } else { "" };
                (n.id.clone(), format!("{}{mark}", n.label))
            })
            .collect(),
        children: HashMap::new(),
        lines: Vec::new(),
    };
    let mut has_parent = HashSet::new();
    for (a, b) in graph.edges() {
        tree.children
            .entry(a.id.clone())
            .or_default()
            .push(b.id.clone());
        has_parent.insert(b.id.clone());
    }
    let roots: Vec<String> = graph
        .nodes()
        .filter(|n| !has_parent.contains(&n.id))
        .map(|n| n.id.clone())
        .collect();
    for r in roots {
        tree.walk(&r, "", true, true);
    }
    tree.lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Node, NodeKind};

    #[test]
    fn a_tree_lists_roots_then_children() {
        let mut g = Graph::new();
        for (id, label) in [("a", "is_species"), ("b", "setosa"), ("c", "versicolor")] {
            let n = Node::new(id.to_string(), label.to_string(), NodeKind::Label);
            g.add_node(if id == "b" { n.highlighted() } else { n });
        }
        g.add_edge("a", "b").unwrap();
        g.add_edge("a", "c").unwrap();
        assert_eq!(
            tree_lines(&g),
            ["is_species", "├── setosa *", "└── versicolor"]
        );
    }
}
