package fakeapi

// Groups indexes a fake's objects by the group they belong to (an account's
// posts, a channel's videos), for listings per group. The fake's own lock
// guards it.
type Groups[V any] map[string]map[string]V

// Add puts v under id in group.
func (g Groups[V]) Add(group, id string, v V) {
	if g[group] == nil {
		g[group] = map[string]V{}
	}
	g[group][id] = v
}

// Remove takes id out of group.
func (g Groups[V]) Remove(group, id string) { delete(g[group], id) }
