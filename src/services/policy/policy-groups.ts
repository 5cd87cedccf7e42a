/**
 * Nested groups of a connection policy (SPEC POL-2): a group's members are AORs or other
 * groups (`@name`). Cycles are found and membership resolved transitively once, when a
 * document is loaded, with iterative walks (a chain of thousands of nested groups must not
 * overflow the stack) and a work budget (nesting can multiply memberships quadratically).
 * @module
 */

/** Most memberships (AOR or group in a group, direct or nested) a document may resolve to. */
export const MAX_EXPANDED_MEMBERSHIPS = 1_000_000;

/** A reference from a group's member list (`index` in that list) to another group. */
export interface GroupEdge {
  name: string;
  index: number;
}

/** A cycle closed by member `index` of `group`: `cycle` lists the groups, first repeated last. */
export interface GroupCycle {
  group: string;
  index: number;
  cycle: string[];
}

/** Groups split into direct AOR members and references to other (existing) groups. */
export interface GroupGraph {
  aors: Map<string, string[]>;
  edges: Map<string, GroupEdge[]>;
}

/**
 * The graph of a validated `groups` map: members starting with `@` are group references
 * (references to groups that do not exist are left out: validation reports them).
 */
export function groupGraph(groups: Readonly<Record<string, readonly string[]>>): GroupGraph {
  const aors = new Map<string, string[]>();
  const edges = new Map<string, GroupEdge[]>();
  for (const name of Object.keys(groups)) {
    aors.set(name, []);
    edges.set(name, []);
  }
  for (const [name, members] of Object.entries(groups)) {
    members.forEach((m, index) => {
      if (!m.startsWith('@')) aors.get(name)!.push(m);
      else if (edges.has(m.slice(1))) edges.get(name)!.push({ name: m.slice(1), index });
    });
  }
  return { aors, edges };
}

/** Every cycle of group references, each reported once, at the member that closes it. */
export function findGroupCycles(edges: ReadonlyMap<string, readonly GroupEdge[]>): GroupCycle[] {
  const done = new Set<string>();
  /** Groups on the current walk, with their position in `stack`. */
  const onStack = new Map<string, number>();
  const cycles: GroupCycle[] = [];
  for (const start of edges.keys()) {
    if (done.has(start)) continue;
    const stack: { group: string; next: number }[] = [{ group: start, next: 0 }];
    onStack.set(start, 0);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const out = edges.get(top.group) ?? [];
      if (top.next >= out.length) {
        stack.pop();
        onStack.delete(top.group);
        done.add(top.group);
        continue;
      }
      const e = out[top.next++]!;
      const at = onStack.get(e.name);
      if (at !== undefined) {
        cycles.push({ group: top.group, index: e.index, cycle: [...stack.slice(at).map((f) => f.group), e.name] });
      } else if (!done.has(e.name)) {
        onStack.set(e.name, stack.length);
        stack.push({ group: e.name, next: 0 });
      }
    }
  }
  return cycles;
}

/**
 * For every AOR, the groups it belongs to, directly or through nested groups, in the order
 * of the `groups` map. The graph must have no cycles. Resolves `undefined` when resolving
 * would take more than `limit` steps (one per nested group or AOR reached).
 */
export function groupsByAor(graph: GroupGraph, limit = MAX_EXPANDED_MEMBERSHIPS): Map<string, string[]> | undefined {
  const byAor = new Map<string, string[]>();
  let steps = 0;
  for (const group of graph.edges.keys()) {
    const seen = new Set<string>([group]);
    const todo = [group];
    for (let g = todo.pop(); g !== undefined; g = todo.pop()) {
      for (const aor of graph.aors.get(g) ?? []) {
        if (++steps > limit) return undefined;
        let list = byAor.get(aor);
        if (!list) byAor.set(aor, (list = []));
        // Groups are resolved one at a time, so a repeat of `group` is the list's last entry.
        if (list[list.length - 1] !== group) list.push(group);
      }
      for (const e of graph.edges.get(g) ?? []) {
        if (seen.has(e.name)) continue;
        if (++steps > limit) return undefined;
        seen.add(e.name);
        todo.push(e.name);
      }
    }
  }
  return byAor;
}
